/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which processes belong to a cell: glob patterns on the executable and
 * on the arguments. Documentation/config.md gives the rules.
 */
#ifndef KIS_MATCH_H
#define KIS_MATCH_H

#include "kis_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct kis_exec_info - what is known of a process when it is matched
 * @exe: absolute path of the executable file, symlinks resolved, or NULL
 * @argv0: first argument as the program was started, or NULL
 * @args: the other arguments joined by single spaces ("" when none)
 */
struct kis_exec_info {
	const char *exe;
	const char *argv0;
	const char *args;
};

int kis_glob_check(const char *pat, size_t *err_pos);
bool kis_glob_match(const char *pat, const char *str);
bool kis_program_match(const char *program, const char *args_pattern,
		       const struct kis_exec_info *info);
size_t kis_cmdline_split(char *buf, size_t len, const char **argv0,
			 const char **args);

#ifdef __cplusplus
}
#endif

#endif /* KIS_MATCH_H */
