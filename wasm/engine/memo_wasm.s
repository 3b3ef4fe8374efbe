#include "go_asm.h"
#include "textflag.h"

// func memoClean(mm *memo, b []byte, m mode) (bool, uint64)
//
// The same steps as memoCleanGo (memo.go), with structured loops. The
// string's last partial word is read as the eight bytes that end it,
// shifted: they lie in wasm memory even when the string is shorter, and
// give the same value as memoCleanGo's bytewise tail.
//
// R0 mm, R1 b's base, R2 len(b), R3 m, R4 h, R5 i, R6 tail value, then
// shift, R7 the entry, R8 the remembered copy, R9 scratch, R10 len(b)-i.
TEXT ·memoClean(SB), NOSPLIT, $0-56
	MOVD mm+0(FP), R0
	MOVD b_base+8(FP), R1
	MOVD b_len+16(FP), R2
	MOVD m+32(FP), R3

	// h = len<<8 | m, then each full word mixed in
	Get R2
	I64Const $8
	I64Shl
	Get R3
	I64Or
	Set R4
	I64Const $0
	Set R5
	Block
		Loop
			Get R5
			I64Const $8
			I64Add
			Get R2
			I64GtS
			BrIf $1
			Get R4
			Get R1
			Get R5
			I64Add
			I32WrapI64
			I64Load $0
			I64Xor
			I64Const $-7046029254386353131
			I64Mul
			I64Const $29
			I64Rotl
			Set R4
			Get R5
			I64Const $8
			I64Add
			Set R5
			Br $0
		End
	End

	// the tail, little-endian
	Get R2
	Get R5
	I64Sub
	Set R10
	I64Const $0
	Set R6
	Get R10
	I64Eqz
	I32Eqz
	If
		Get R1
		Get R2
		I64Add
		I64Const $8
		I64Sub
		I32WrapI64
		I64Load $0
		I64Const $64
		Get R10
		I64Const $3
		I64Shl
		I64Sub
		I64ShrU
		Set R6
	End
	Get R4
	Get R6
	I64Xor
	I64Const $-4417276706812531889
	I64Mul
	Set R4
	Get R4
	Get R4
	I64Const $32
	I64ShrU
	I64Xor
	Set R4
	MOVD R4, ret1+48(FP)

	// the entry: &mm.slots[h % memoSlots]
	Get R0
	I64Const $memo_slots
	I64Add
	Get R4
	I64Const $(const_memoSlots-1)
	I64And
	I64Const $memoEntry__size
	I64Mul
	I64Add
	Set R7

	Block // a miss
		I64Load32U memoEntry_gen(R7)
		I64Load32U memo_gen(R0)
		I64Ne
		BrIf $0
		I64Load memoEntry_h(R7)
		Get R4
		I64Ne
		BrIf $0
		I64Load8U memoEntry_m(R7)
		Get R3
		I64Const $255
		I64And
		I64Ne
		BrIf $0
		I64Load32U memoEntry_n(R7)
		Get R2
		I64Ne
		BrIf $0

		// the copy, arena[off:off+n], within the arena
		I64Load32U memoEntry_off(R7)
		Set R9
		Get R9
		Get R2
		I64Add
		I64Load (memo_arena+8)(R0)
		I64GtU
		BrIf $0
		I64Load (memo_arena+0)(R0)
		Get R9
		I64Add
		Set R8

		// the same full words
		I64Const $0
		Set R5
		Block
			Loop
				Get R5
				I64Const $8
				I64Add
				Get R2
				I64GtS
				BrIf $1
				Get R8
				Get R5
				I64Add
				I32WrapI64
				I64Load $0
				Get R1
				Get R5
				I64Add
				I32WrapI64
				I64Load $0
				I64Ne
				BrIf $2
				Get R5
				I64Const $8
				I64Add
				Set R5
				Br $0
			End
		End

		// and the same tail
		Get R2
		Get R5
		I64Sub
		Set R10
		Get R10
		I64Eqz
		I32Eqz
		If
			I64Const $64
			Get R10
			I64Const $3
			I64Shl
			I64Sub
			Set R6
			Get R8
			Get R2
			I64Add
			I64Const $8
			I64Sub
			I32WrapI64
			I64Load $0
			Get R6
			I64ShrU
			Get R1
			Get R2
			I64Add
			I64Const $8
			I64Sub
			I32WrapI64
			I64Load $0
			Get R6
			I64ShrU
			I64Ne
			BrIf $1
		End

		MOVB $1, ret+40(FP)
		RET
	End

	MOVB $0, ret+40(FP)
	RET
