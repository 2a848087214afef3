package cache

// idIndex maps a member's user ID to its position in the group's records.
// It is an open-addressing hash table of int32 positions (plus one; zero is
// an empty slot) with linear probing and backward-shift deletion, kept at
// most three-quarters full: about 10 bytes per member, where a
// map[uint64]int32 costs about 22. The IDs themselves are not stored; a slot
// is checked against the record it points to. Groups of up to linearMax
// members have no table and are scanned.
//
// An idIndex is not safe for concurrent use; MemberCache's lock guards it.
type idIndex struct {
	slots []int32
}

// linearMax is the largest group that is scanned rather than hashed.
const linearMax = 8

func hashID(id uint64) uint32 {
	return uint32((id * 0x9e3779b97f4a7c15) >> 32)
}

// find returns the position of id in recs, or -1.
func (x *idIndex) find(recs []memberRec, id uint64) int32 {
	if x.slots == nil {
		for i := range recs {
			if recs[i].id == id {
				return int32(i)
			}
		}
		return -1
	}
	mask := uint32(len(x.slots) - 1)
	for i := hashID(id) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if recs[s-1].id == id {
			return s - 1
		}
	}
}

// slotOf returns the slot that holds id, which must be present.
func (x *idIndex) slotOf(recs []memberRec, id uint64) uint32 {
	mask := uint32(len(x.slots) - 1)
	i := hashID(id) & mask
	for recs[x.slots[i]-1].id != id {
		i = (i + 1) & mask
	}
	return i
}

// added records that recs' last record is new. recs is the group's records
// after the append.
func (x *idIndex) added(recs []memberRec) {
	n := len(recs)
	if n <= linearMax {
		return
	}
	if x.slots == nil || n*4 > len(x.slots)*3 {
		x.rebuild(recs)
		return
	}
	x.place(recs, int32(n-1))
}

func (x *idIndex) place(recs []memberRec, pos int32) {
	mask := uint32(len(x.slots) - 1)
	i := hashID(recs[pos].id) & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = pos + 1
}

// rebuild sizes the table for recs and refills it.
func (x *idIndex) rebuild(recs []memberRec) {
	size := 16
	for len(recs)*4 > size*3 {
		size *= 2
	}
	x.slots = make([]int32, size)
	for i := range recs {
		x.place(recs, int32(i))
	}
}

// removing must be called before the record at pos is removed by moving
// the last record into its place; recs is the group's records before the
// removal.
func (x *idIndex) removing(recs []memberRec, pos int32) {
	if x.slots == nil {
		return
	}
	if len(recs)-1 <= linearMax {
		x.slots = nil
		return
	}
	last := int32(len(recs) - 1)
	x.deleteSlot(recs, x.slotOf(recs, recs[pos].id))
	if pos != last {
		x.slots[x.slotOf(recs, recs[last].id)] = pos + 1
	}
}

// deleteSlot empties slot i and shifts back the entries that probed past it.
func (x *idIndex) deleteSlot(recs []memberRec, i uint32) {
	mask := uint32(len(x.slots) - 1)
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		home := hashID(recs[x.slots[j]-1].id) & mask
		// Move slot j back into i when i lies on j's probe path, that is
		// cyclically within [home, j).
		if (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = 0
}

// growQuarter returns s with room for about a quarter more elements.
// append doubles small slices, which leaves up to half of a guild's records
// idle; growing by a quarter wastes about an eighth on average, at the
// price of more copies while a guild loads.
func growQuarter[E any](s []E) []E {
	ns := make([]E, len(s), len(s)+2+len(s)/4)
	copy(ns, s)
	return ns
}
