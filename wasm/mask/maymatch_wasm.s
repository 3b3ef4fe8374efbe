#include "textflag.h"

// TEST leaves on the stack, as an i64, the anchor bytes of the word in R3
// flagged (nonzero: the word holds one), the test of mayMatchGo
// (detect.go). Uses R4 and R5.
#define ZERO(c) \
	Get R3 \
	I64Const c \
	I64Xor \
	Set R5 \
	Get R5 \
	I64Const $0x0101010101010101 \
	I64Sub \
	Get R5 \
	I64Const $-1 \
	I64Xor \
	I64And

#define TEST \
	Get R3 \
	I64Const $0x7f7f7f7f7f7f7f7f \
	I64And \
	Set R4 \
	I64Const $-4557430888798830400 \
	Get R4 \
	I64Sub \
	Get R3 \
	I64Const $-1 \
	I64Xor \
	I64And \
	Get R4 \
	I64Const $6148914691236517205 \
	I64Add \
	I64And \
	ZERO($2676586395008836901) \
	I64Or \
	ZERO($6872316419617283935) \
	I64Or \
	ZERO($9114861777597660798) \
	I64Or \
	ZERO($4702111234474983745) \
	I64Or \
	ZERO($5353172790017673802) \
	I64Or \
	I64Const $-9187201950435737472 \
	I64And

// func mayMatch(b []byte) bool
//
// mayMatchGo with structured loops. The last partial word is read as the
// eight bytes that end b, shifted to keep only its own: they lie in wasm
// memory even when b is shorter, and zero bytes are no anchor.
//
// R0 b's base, R1 len(b), R2 i, R3 the word, R6 len(b)-i.
TEXT ·mayMatch(SB), NOSPLIT, $0-25
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	I64Const $0
	Set R2
	Block // found
		Block
			Loop
				Get R2
				I64Const $8
				I64Add
				Get R1
				I64GtS
				BrIf $1
				Get R0
				Get R2
				I64Add
				I32WrapI64
				I64Load $0
				Set R3
				TEST
				I64Eqz
				I32Eqz
				BrIf $2
				Get R2
				I64Const $8
				I64Add
				Set R2
				Br $0
			End
		End
		Get R1
		Get R2
		I64Sub
		Set R6
		Get R6
		I64Eqz
		If
			MOVB $0, ret+24(FP)
			RET
		End
		Get R0
		Get R1
		I64Add
		I64Const $8
		I64Sub
		I32WrapI64
		I64Load $0
		I64Const $64
		Get R6
		I64Const $3
		I64Shl
		I64Sub
		I64ShrU
		Set R3
		TEST
		I64Eqz
		I32Eqz
		BrIf $0
		MOVB $0, ret+24(FP)
		RET
	End
	MOVB $1, ret+24(FP)
	RET
