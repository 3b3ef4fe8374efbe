#include "go_asm.h"
#include "textflag.h"
#include "funcdata.h"

// SPECIAL(addr, out) sets out to special() (jsontext.go) of the eight
// bytes at addr, using R12-R14.
#define SPECIAL(addr, out) \
	Get addr \
	I32WrapI64 \
	I64Load $0 \
	Set R12 \
	Get R12 \
	I64Const $0x2222222222222222 \
	I64Xor \
	Set R13 \
	Get R12 \
	I64Const $0x5c5c5c5c5c5c5c5c \
	I64Xor \
	Set R14 \
	Get R13 \
	I64Const $0x0101010101010101 \
	I64Sub \
	Get R13 \
	I64Const $-1 \
	I64Xor \
	I64And \
	Get R14 \
	I64Const $0x0101010101010101 \
	I64Sub \
	Get R14 \
	I64Const $-1 \
	I64Xor \
	I64And \
	I64Or \
	Get R12 \
	I64Const $0x2020202020202020 \
	I64Sub \
	Get R12 \
	I64Const $-1 \
	I64Xor \
	I64And \
	I64Or \
	I64Const $-9187201950435737472 \
	I64And \
	Set out

// READER loads the Reader's state: R0 r, R1 In's base, R2 len(In), R3 Pos.
#define READER \
	MOVD r+0(FP), R0 \
	MOVD (Reader_In+0)(R0), R1 \
	MOVD (Reader_In+8)(R0), R2 \
	MOVD Reader_Pos(R0), R3

// SCANSTRING(slow) finds the end of a string's plain bytes from In[R4] on,
// eight at a time, leaving in R4 the index of its closing quote; it
// branches to the block slow levels out for anything else (an escape, a
// control byte, fewer than eight bytes left). Uses R5, R7 and SPECIAL's.
#define SCANSTRING(slow) \
	Block \
		Loop \
			Get R4 \
			I64Const $8 \
			I64Add \
			Get R2 \
			I64GtS \
			BrIf $(slow+2) \
			Get R1 \
			Get R4 \
			I64Add \
			Set R7 \
			SPECIAL(R7, R5) \
			Get R5 \
			I64Eqz \
			I32Eqz \
			BrIf $1 \
			Get R4 \
			I64Const $8 \
			I64Add \
			Set R4 \
			Br $0 \
		End \
	End \
	Get R4 \
	Get R5 \
	I64Ctz \
	I64Const $3 \
	I64ShrU \
	I64Add \
	Set R4 \
	Get R1 \
	Get R4 \
	I64Add \
	I32WrapI64 \
	I64Load8U $0 \
	I64Const $34 \
	I64Ne \
	BrIf $(slow)

// NOFRACTION branches one block out when the digits that end at In[R4]
// (R6 its byte, when R4 < len(In)) go on as a fraction or an exponent.
#define NOFRACTION \
	Get R4 \
	Get R2 \
	I64LtS \
	If \
		Get R6 \
		I64Const $46 \
		I64Eq \
		Get R6 \
		I64Const $32 \
		I64Or \
		I64Const $101 \
		I64Eq \
		I32Or \
		BrIf $1 \
	End

// func keyNext(r *Reader, n *int, write bool) bool
//
// The same steps as keyNextGo (fast.go): one block that branches out to
// the call of nextKeySlow on the first test that fails, having changed
// nothing.
//
// R0 r, R1 In's base, R2 len(In), R3 Pos, R4 n, R5 *n, R6 p, R7 c,
// R8 i, R9 m, R10 j, R11 write, R15 the address of i.
TEXT ·keyNext(SB), NOSPLIT, $24-25
	NO_LOCAL_POINTERS
	READER
	MOVD n+8(FP), R4
	MOVD 0(R4), R5
	MOVB write+16(FP), R11

	Block
		// p+19 <= len(In)
		Get R3
		I64Const $19
		I64Add
		Get R2
		I64GtS
		BrIf $0

		// !(write && pe != Pos)
		Get R11
		I32WrapI64
		I64Load Reader_pe(R0)
		Get R3
		I64Ne
		I32And
		BrIf $0

		Get R3
		Set R6
		Get R1
		Get R6
		I64Add
		I32WrapI64
		I64Load8U $0
		Set R7

		// the closing brace: Pos++, depth--, and pe = Pos when writing
		// (it was Pos, tested above)
		Get R7
		I64Const $125
		I64Eq
		If
			Get R3
			I64Const $1
			I64Add
			Set R3
			MOVD R3, Reader_Pos(R0)
			MOVD Reader_depth(R0), R8
			Get R8
			I64Const $1
			I64Sub
			Set R8
			MOVD R8, Reader_depth(R0)
			Get R11
			I32WrapI64
			If
				MOVD R3, Reader_pe(R0)
			End
			MOVB $0, ret+24(FP)
			RET
		End

		// a comma, unless first
		Get R7
		I64Const $44
		I64Eq
		Get R5
		I64Const $0
		I64GtS
		I32And
		If
			Get R6
			I64Const $1
			I64Add
			Set R6
			Get R1
			Get R6
			I64Add
			I32WrapI64
			I64Load8U $0
			Set R7
		End

		// c == '"'
		Get R7
		I64Const $34
		I64Ne
		BrIf $0

		// not first, so a comma was read
		Get R5
		I64Const $0
		I64GtS
		Get R6
		Get R3
		I64Eq
		I32And
		BrIf $0

		// m := special at i = p+1, else at i+8
		Get R6
		I64Const $1
		I64Add
		Set R8
		Get R1
		Get R8
		I64Add
		Set R15
		SPECIAL(R15, R9)
		Get R9
		I64Eqz
		If
			Get R8
			I64Const $8
			I64Add
			Set R8
			Get R15
			I64Const $8
			I64Add
			Set R15
			SPECIAL(R15, R9)
		End
		Get R9
		I64Eqz
		BrIf $0

		// j := i + ctz(m)/8, and In[j:j+2] is `":`
		Get R8
		Get R9
		I64Ctz
		I64Const $3
		I64ShrU
		I64Add
		Set R10
		Get R1
		Get R10
		I64Add
		I32WrapI64
		I64Load16U $0
		I64Const $0x3a22
		I64Ne
		BrIf $0

		// *n++
		Get R5
		I64Const $1
		I64Add
		Set R5
		MOVD R5, 0(R4)

		Get R6
		I64Const $1
		I64Add
		Set R6
		MOVD R6, Reader_KeyStart(R0)
		MOVD R10, Reader_KeyEnd(R0)
		MOVB $0, Reader_KeyEscaped(R0)
		MOVB $1, Reader_KeyColon(R0)

		// Pos, and pe when writing, = j+2
		Get R10
		I64Const $2
		I64Add
		Set R10
		MOVD R10, Reader_Pos(R0)
		Get R11
		I32WrapI64
		If
			MOVD R10, Reader_pe(R0)
		End

		MOVB $1, ret+24(FP)
		RET
	End

	// Anything else: nextKeySlow(r, n, write).
	MOVD R0, 0(SP)
	MOVD R4, 8(SP)
	MOVB R11, 16(SP)
	CALL ·nextKeySlow(SB)
	MOVB 24(SP), R0
	MOVB R0, ret+24(FP)
	RET

// func stringNext(r *Reader) (start, end int, escaped bool)
//
// stringNextGo (fast.go), falling back to a call of stringSlow.
//
// R0 r, R1 In's base, R2 len(In), R3 Pos, R4 i, R5 m, R7 the address of i.
TEXT ·stringNext(SB), NOSPLIT, $32-25
	NO_LOCAL_POINTERS
	READER
	Block
		Get R3
		Get R2
		I64GeS
		BrIf $0
		Get R1
		Get R3
		I64Add
		I32WrapI64
		I64Load8U $0
		I64Const $34
		I64Ne
		BrIf $0
		Get R3
		I64Const $1
		I64Add
		Set R4
		SCANSTRING(0)
		Get R4
		I64Const $1
		I64Add
		Set R5
		MOVD R5, Reader_Pos(R0)
		Get R3
		I64Const $1
		I64Add
		Set R3
		MOVD R3, start+8(FP)
		MOVD R4, end+16(FP)
		MOVB $0, escaped+24(FP)
		RET
	End
	MOVD R0, 0(SP)
	CALL ·stringSlow(SB)
	MOVD 8(SP), R0
	MOVD R0, start+8(FP)
	MOVD 16(SP), R0
	MOVD R0, end+16(FP)
	MOVB 24(SP), R0
	MOVB R0, escaped+24(FP)
	RET

// func copyNext(r *Reader)
//
// copyNextGo (fast.go), falling back to a call of copySlow.
//
// R0 r, R1 In's base, R2 len(In), R3 Pos, R4 i, R5 m, R6 c, R7 the
// address of i.
TEXT ·copyNext(SB), NOSPLIT, $8-8
	NO_LOCAL_POINTERS
	READER
	Block
		Get R3
		Get R2
		I64GeS
		BrIf $0
		I64Load Reader_pe(R0)
		Get R3
		I64Ne
		BrIf $0
		Get R1
		Get R3
		I64Add
		I32WrapI64
		I64Load8U $0
		Set R6
		Get R3
		I64Const $1
		I64Add
		Set R4

		// a string without escapes
		Get R6
		I64Const $34
		I64Eq
		If
			SCANSTRING(1)
			Get R4
			I64Const $1
			I64Add
			Set R4
			MOVD R4, Reader_Pos(R0)
			MOVD R4, Reader_pe(R0)
			RET
		End

		// a positive integer: '1' to '9', then digits
		Get R6
		I64Const $49
		I64Sub
		I64Const $8
		I64GtU
		BrIf $0
		Block
			Loop
				Get R4
				Get R2
				I64GeS
				BrIf $1
				Get R1
				Get R4
				I64Add
				I32WrapI64
				I64Load8U $0
				Set R6
				Get R6
				I64Const $48
				I64Sub
				I64Const $9
				I64GtU
				BrIf $1
				Get R4
				I64Const $1
				I64Add
				Set R4
				Br $0
			End
		End
		// not followed by a fraction or an exponent
		NOFRACTION
		MOVD R4, Reader_Pos(R0)
		MOVD R4, Reader_pe(R0)
		RET
	End
	MOVD R0, 0(SP)
	CALL ·copySlow(SB)
	RET

// func openNext(r *Reader, c byte)
//
// openNextGo (fast.go), falling back to a call of openSlow.
//
// R0 r, R1 In's base, R2 len(In), R3 Pos, R4 c, R5 depth.
TEXT ·openNext(SB), NOSPLIT, $16-9
	NO_LOCAL_POINTERS
	READER
	MOVB c+8(FP), R4
	Block
		Get R3
		Get R2
		I64GeS
		BrIf $0
		Get R1
		Get R3
		I64Add
		I32WrapI64
		I64Load8U $0
		Get R4
		I64Ne
		BrIf $0
		I64Load Reader_pe(R0)
		Get R3
		I64Ne
		BrIf $0
		MOVD Reader_depth(R0), R5
		Get R5
		I64Const $const_MaxDepth
		I64GeS
		BrIf $0
		Get R5
		I64Const $1
		I64Add
		Set R5
		MOVD R5, Reader_depth(R0)
		Get R3
		I64Const $1
		I64Add
		Set R3
		MOVD R3, Reader_Pos(R0)
		MOVD R3, Reader_pe(R0)
		RET
	End
	MOVD R0, 0(SP)
	MOVB R4, 8(SP)
	CALL ·openSlow(SB)
	RET

// func elemNext(r *Reader, n *int) bool
//
// elemNextGo (fast.go), falling back to a call of elemSlow.
//
// R0 r, R1 In's base, R2 len(In), R3 Pos, R4 n, R5 *n, R6 c, R7 Pos+1.
TEXT ·elemNext(SB), NOSPLIT, $24-17
	NO_LOCAL_POINTERS
	READER
	MOVD n+8(FP), R4
	MOVD 0(R4), R5
	Block
		Get R3
		Get R2
		I64GeS
		BrIf $0
		I64Load Reader_pe(R0)
		Get R3
		I64Ne
		BrIf $0
		Get R1
		Get R3
		I64Add
		I32WrapI64
		I64Load8U $0
		Set R6
		Get R3
		I64Const $1
		I64Add
		Set R7

		// the closing bracket
		Get R6
		I64Const $93
		I64Eq
		If
			MOVD R7, Reader_Pos(R0)
			MOVD R7, Reader_pe(R0)
			MOVD Reader_depth(R0), R5
			Get R5
			I64Const $1
			I64Sub
			Set R5
			MOVD R5, Reader_depth(R0)
			MOVB $0, ret+16(FP)
			RET
		End

		// the first element
		Get R5
		I64Eqz
		If
			Get R6
			I64Const $32
			I64LeU
			BrIf $1
			MOVD $1, 0(R4)
			MOVB $1, ret+16(FP)
			RET
		End

		// a comma and the next element
		Get R6
		I64Const $44
		I64Ne
		BrIf $0
		Get R7
		Get R2
		I64GeS
		BrIf $0
		Get R1
		Get R7
		I64Add
		I32WrapI64
		I64Load8U $0
		I64Const $32
		I64LeU
		BrIf $0
		MOVD R7, Reader_Pos(R0)
		MOVD R7, Reader_pe(R0)
		Get R5
		I64Const $1
		I64Add
		Set R5
		MOVD R5, 0(R4)
		MOVB $1, ret+16(FP)
		RET
	End
	MOVD R0, 0(SP)
	MOVD R4, 8(SP)
	CALL ·elemSlow(SB)
	MOVB 16(SP), R0
	MOVB R0, ret+16(FP)
	RET

// func intNext(r *Reader) int64
//
// intNextGo (fast.go), falling back to a call of intSlow.
//
// R0 r, R1 In's base, R2 len(In), R3 Pos, R4 j, R5 the value, R6 a byte.
TEXT ·intNext(SB), NOSPLIT, $16-16
	NO_LOCAL_POINTERS
	READER
	Block
		Get R3
		Get R2
		I64GeS
		BrIf $0
		Get R1
		Get R3
		I64Add
		I32WrapI64
		I64Load8U $0
		Set R6
		Get R6
		I64Const $49
		I64Sub
		I64Const $8
		I64GtU
		BrIf $0
		Get R6
		I64Const $48
		I64Sub
		Set R5
		Get R3
		I64Const $1
		I64Add
		Set R4
		Block
			Loop
				Get R4
				Get R2
				I64GeS
				BrIf $1
				Get R1
				Get R4
				I64Add
				I32WrapI64
				I64Load8U $0
				Set R6
				Get R6
				I64Const $48
				I64Sub
				I64Const $9
				I64GtU
				BrIf $1
				// v = v*10 + digit: past 18 digits the slow path is
				// taken anyway, so the overflow is harmless
				Get R5
				I64Const $10
				I64Mul
				Get R6
				I64Const $48
				I64Sub
				I64Add
				Set R5
				Get R4
				I64Const $1
				I64Add
				Set R4
				Br $0
			End
		End
		// at most 18 digits
		Get R4
		Get R3
		I64Sub
		I64Const $18
		I64GtS
		BrIf $0
		// not followed by a fraction or an exponent
		NOFRACTION
		MOVD R4, Reader_Pos(R0)
		MOVD R5, ret+8(FP)
		RET
	End
	MOVD R0, 0(SP)
	CALL ·intSlow(SB)
	MOVD 8(SP), R0
	MOVD R0, ret+8(FP)
	RET
