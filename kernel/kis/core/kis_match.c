// SPDX-License-Identifier: GPL-2.0
/*
 * Glob matching for cell selection. Patterns come from the administrator
 * and strings from the process being matched (possibly an attacker's), so
 * matching is iterative with bounded work: O(len(pat) * len(str)) at worst,
 * no recursion, no allocation.
 */
#include "kis_match.h"

/*
 * Matches one bracket expression at @pat (just past '[') against @c.
 * Returns the position just past the closing ']' or NULL if the class is
 * not terminated; *@hit tells whether @c is in the class.
 */
static const char *class_match(const char *pat, char c, bool *hit)
{
	bool negate = false;
	bool found = false;
	bool first = true;

	if (*pat == '!' || *pat == '^') {
		negate = true;
		pat++;
	}
	while (*pat && (first || *pat != ']')) {
		char lo = *pat++;
		char hi;

		first = false;
		if (lo == '\\') {
			if (!*pat)
				return NULL;
			lo = *pat++;
		}
		hi = lo;
		if (pat[0] == '-' && pat[1] && pat[1] != ']') {
			pat++;
			hi = *pat++;
			if (hi == '\\') {
				if (!*pat)
					return NULL;
				hi = *pat++;
			}
		}
		if ((unsigned char)c >= (unsigned char)lo &&
		    (unsigned char)c <= (unsigned char)hi)
			found = true;
	}
	if (*pat != ']')
		return NULL;
	*hit = found != negate;
	return pat + 1;
}

/**
 * kis_glob_check() - check that a glob pattern is well formed
 * @pat: NUL-terminated pattern
 * @err_pos: set to the offset of the first error, if any (may be NULL)
 *
 * Return: 0, or -EINVAL for an unterminated bracket expression or a
 * trailing backslash.
 */
int kis_glob_check(const char *pat, size_t *err_pos)
{
	const char *p = pat;
	bool hit;

	while (*p) {
		const char *start = p;

		switch (*p) {
		case '\\':
			if (!p[1])
				goto bad;
			p += 2;
			break;
		case '[':
			p = class_match(p + 1, 'a', &hit);
			if (!p) {
				p = start;
				goto bad;
			}
			break;
		default:
			p++;
		}
	}
	return 0;
bad:
	if (err_pos)
		*err_pos = (size_t)(p - pat);
	return -EINVAL;
}

/**
 * kis_glob_match() - shell-style glob match of a whole string
 * @pat: pattern: '*' any run, '?' any one byte, '[a-z]', '[!x]', '\\' escape
 * @str: string to match
 *
 * A malformed bracket expression matches a literal '['. '*' also matches
 * '/': arguments and paths are matched as plain text.
 *
 * Return: true if all of @str matches all of @pat.
 */
bool kis_glob_match(const char *pat, const char *str)
{
	const char *star_pat = NULL;
	const char *star_str = NULL;

	while (*str) {
		const char *next = NULL;
		bool hit = false;

		switch (*pat) {
		case '*':
			star_pat = ++pat;
			star_str = str;
			continue;
		case '?':
			next = pat + 1;
			hit = true;
			break;
		case '[':
			next = class_match(pat + 1, *str, &hit);
			if (next)
				break;
			hit = *str == '[';
			next = pat + 1;
			break;
		case '\\':
			/* A trailing backslash stands for itself. */
			hit = (pat[1] ? pat[1] : '\\') == *str;
			next = pat[1] ? pat + 2 : pat + 1;
			break;
		default:
			hit = *pat && *pat == *str;
			next = pat + 1;
		}
		if (hit) {
			pat = next;
			str++;
			continue;
		}
		if (!star_pat)
			return false;
		/* Let the last '*' swallow one more byte and retry. */
		pat = star_pat;
		str = ++star_str;
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/**
 * kis_program_match() - does a process belong to a cell
 * @program: the cell's program glob; with a '/' it is matched against the
 *	executable's path and against argv[0], without one against their
 *	last components
 * @args_pattern: glob on the arguments after argv[0] joined by spaces;
 *	NULL or "" matches any
 * @info: the process
 *
 * Return: true if both the program and the arguments match.
 */
bool kis_program_match(const char *program, const char *args_pattern,
		       const struct kis_exec_info *info)
{
	bool by_path = strchr(program, '/');
	bool prog_ok = false;

	if (info->exe && *info->exe)
		prog_ok = kis_glob_match(program, by_path ? info->exe :
					 base_name(info->exe));
	if (!prog_ok && info->argv0 && *info->argv0)
		prog_ok = kis_glob_match(program, by_path ? info->argv0 :
					 base_name(info->argv0));
	if (!prog_ok)
		return false;
	if (!args_pattern || !*args_pattern)
		return true;
	return kis_glob_match(args_pattern, info->args ? info->args : "");
}

/**
 * kis_cmdline_split() - split a raw argument area in place
 * @buf: the process's argument bytes: strings separated by NULs; need not
 *	end with a NUL, must have room for one more byte at @buf[@len]
 * @len: number of bytes read
 * @argv0: set to the first argument
 * @args: set to the remaining arguments, joined by single spaces
 *
 * Return: length of *@args.
 */
size_t kis_cmdline_split(char *buf, size_t len, const char **argv0,
			 const char **args)
{
	size_t first = 0;
	size_t i;

	buf[len] = '\0';
	while (first < len && buf[first])
		first++;
	*argv0 = buf;
	if (first >= len) {
		*args = buf + len;
		return 0;
	}
	/* Trailing NULs are the end of the last argument, not separators. */
	while (len > first + 1 && !buf[len - 1])
		len--;
	buf[len] = '\0';
	for (i = first + 1; i < len; i++)
		if (!buf[i])
			buf[i] = ' ';
	*args = buf + first + 1;
	return len - first - 1;
}
