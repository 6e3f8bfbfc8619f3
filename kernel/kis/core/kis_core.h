/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The portable core of KIS: plain C, integer arithmetic only, no
 * allocation, no locking. The same files build into kis.ko and into
 * libkiscore for kisctl, the unit tests and the benchmarks, so that
 * offline results equal in-kernel results.
 */
#ifndef KIS_CORE_H
#define KIS_CORE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/math64.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;
#endif

/**
 * kis_div64() - divide one u64 by another, also on 32-bit kernels
 * @a: dividend
 * @b: divisor, not 0
 *
 * The kernel has no 64-bit '/' on 32-bit machines (no libgcc); every u64
 * division of the core goes through here.
 *
 * Return: @a / @b, rounded down.
 */
static inline u64 kis_div64(u64 a, u64 b)
{
#ifdef __KERNEL__
	return div64_u64(a, b);
#else
	return a / b;
#endif
}

#endif /* KIS_CORE_H */
