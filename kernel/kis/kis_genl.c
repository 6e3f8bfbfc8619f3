// SPDX-License-Identifier: GPL-2.0
/*
 * The "kis" generic netlink family: the contract in <linux/kis.h>,
 * described in Documentation/netlink.md. Every attribute has a policy;
 * attributes the module only sends are rejected on input. Commands that
 * change state need GENL_ADMIN_PERM (CAP_NET_ADMIN in the initial user
 * namespace), and the family is only reachable from the initial network
 * namespace.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/genetlink.h>

#include "kis_internal.h"
#include "kis_match.h"

static struct netlink_range_validation kis_max_tasks_range = {
	.min = KIS_CELL_TASKS_MIN,
	.max = KIS_CELL_TASKS_MAX,
};

static struct netlink_range_validation kis_learn_cap_range = {
	.min = 1,
	.max = KIS_LEARN_CAP_MAX,
};

static struct netlink_range_validation kis_learn_for_range = {
	.min = 1,
	.max = KIS_LEARN_FOR_MS_MAX,
};

static struct netlink_range_validation kis_interval_range = {
	.min = KIS_STAT_INTERVAL_MS_MIN,
	.max = KIS_STAT_INTERVAL_MS_MAX,
};

static struct netlink_range_validation kis_file_tree_range = {
	.min = 1,
	.max = KIS_FILE_TREE_MAX,
};

static const struct nla_policy kis_param_policy[KIS_PARAM_ATTR_MAX + 1] = {
	[KIS_PARAM_ATTR_ID] = NLA_POLICY_RANGE(NLA_U8, KIS_PARAM_CPU,
					       KIS_PARAM_COUNT - 1),
	[KIS_PARAM_ATTR_MULT1] = NLA_POLICY_MAX(NLA_U16, KIS_MULT_MAX),
	[KIS_PARAM_ATTR_MULT2] = NLA_POLICY_MAX(NLA_U16, KIS_MULT_MAX),
	[KIS_PARAM_ATTR_FLOOR] = { .type = NLA_U64 },
	[KIS_PARAM_ATTR_EXPECT] = { .type = NLA_U64 },
	[KIS_PARAM_ATTR_TOLERANCE] = NLA_POLICY_MAX(NLA_U16, KIS_TOLERANCE_MAX),
	[KIS_PARAM_ATTR_PAD] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_SAMPLES] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_MEAN] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_DEV] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_T1] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_T2] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_VALUE] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_LEVEL] = { .type = NLA_REJECT },
	[KIS_PARAM_ATTR_ARMED] = { .type = NLA_REJECT },
};

static const struct nla_policy kis_glob_policy[KIS_CELL_ATTR_MAX + 1] = {
	[KIS_CELL_ATTR_FILE_GLOB] = { .type = NLA_NUL_STRING,
				      .len = KIS_PROGRAM_MAX - 1 },
};

static const struct nla_policy kis_cell_policy[KIS_CELL_ATTR_MAX + 1] = {
	[KIS_CELL_ATTR_NAME] = { .type = NLA_NUL_STRING,
				 .len = KIS_CELL_NAME_MAX - 1 },
	[KIS_CELL_ATTR_PROGRAM] = { .type = NLA_NUL_STRING,
				    .len = KIS_PROGRAM_MAX - 1 },
	[KIS_CELL_ATTR_ARGS] = { .type = NLA_NUL_STRING,
				 .len = KIS_ARGS_PATTERN_MAX - 1 },
	[KIS_CELL_ATTR_FOLLOW_EXEC] = NLA_POLICY_MAX(NLA_U8, 1),
	[KIS_CELL_ATTR_MAX_TASKS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							  &kis_max_tasks_range),
	[KIS_CELL_ATTR_TASKS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_JOINED] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_LEFT] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_EXECS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_OVER_LIMIT] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_SYSCALLS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_PAD] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_ID] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_SEQ_K] = NLA_POLICY_RANGE(NLA_U8, KIS_SEQ_K_MIN,
						 KIS_SEQ_K_MAX),
	[KIS_CELL_ATTR_SEQ_WINDOW] = NLA_POLICY_RANGE(NLA_U16, 1,
						      KIS_SEQ_WINDOW_MAX),
	[KIS_CELL_ATTR_SEQ_THRESHOLD] = NLA_POLICY_MAX(NLA_U16,
						       KIS_SEQ_SCORE_ONE),
	[KIS_CELL_ATTR_LEARN_PREFIXES] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &kis_learn_cap_range),
	[KIS_CELL_ATTR_LEARN_KGRAMS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &kis_learn_cap_range),
	[KIS_CELL_ATTR_STATE] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_LEARNED] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_LEARN_DROPPED] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_PROFILE_KGRAMS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_ALERTS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_TRACE_LOST] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_SEQ_THRESHOLD2] = NLA_POLICY_MAX(NLA_U16,
							KIS_SEQ_SCORE_ONE),
	[KIS_CELL_ATTR_STAT_INTERVAL] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &kis_interval_range),
	[KIS_CELL_ATTR_DANGER_HOLD1] = NLA_POLICY_MAX(NLA_U16,
						      KIS_DANGER_HOLD_MAX),
	[KIS_CELL_ATTR_DANGER_HOLD2] = NLA_POLICY_MAX(NLA_U16,
						      KIS_DANGER_HOLD_MAX),
	[KIS_CELL_ATTR_FILE_TREE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &kis_file_tree_range),
	[KIS_CELL_ATTR_FILE_GLOBS] = NLA_POLICY_NESTED(kis_glob_policy),
	[KIS_CELL_ATTR_FILE_GLOB] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_PARAMS] = NLA_POLICY_NESTED_ARRAY(kis_param_policy),
	[KIS_CELL_ATTR_PARAM] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_DANGER] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_DANGER_EVENTS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_TRAINING] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_STAT_SAMPLES] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_FILES_LEARNED] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_CONNECTIONS] = { .type = NLA_REJECT },
	[KIS_CELL_ATTR_LEARN_LEFT_MS] = { .type = NLA_REJECT },
};

static const struct nla_policy kis_policy[KIS_ATTR_MAX + 1] = {
	[KIS_ATTR_PROTO_VERSION] = { .type = NLA_REJECT },
	[KIS_ATTR_MODULE_VERSION] = { .type = NLA_REJECT },
	[KIS_ATTR_TASKS_WATCHED] = { .type = NLA_REJECT },
	[KIS_ATTR_CELLS] = NLA_POLICY_NESTED_ARRAY(kis_cell_policy),
	[KIS_ATTR_CELL] = NLA_POLICY_NESTED(kis_cell_policy),
	[KIS_ATTR_CELL_NAME] = { .type = NLA_NUL_STRING,
				 .len = KIS_CELL_NAME_MAX - 1 },
	[KIS_ATTR_TASK] = { .type = NLA_REJECT },
	[KIS_ATTR_PROFILE_SOURCE] = NLA_POLICY_MAX(NLA_U8, KIS_PROFILE_ARMED),
	[KIS_ATTR_PROFILE_SIZE] = { .type = NLA_REJECT },
	[KIS_ATTR_PROFILE_CHUNK] = { .type = NLA_BINARY,
				     .len = KIS_PROFILE_CHUNK_MAX },
	[KIS_ATTR_EVENT] = { .type = NLA_REJECT },
	[KIS_ATTR_TRACE_SEQ] = { .type = NLA_REJECT },
	[KIS_ATTR_TRACE_LOST] = { .type = NLA_REJECT },
	[KIS_ATTR_TRACE_RECORDS] = { .type = NLA_REJECT },
	[KIS_ATTR_EVENTS_LOST] = { .type = NLA_REJECT },
	[KIS_ATTR_PAD] = { .type = NLA_REJECT },
	[KIS_ATTR_STATS] = { .type = NLA_BINARY, .len = U16_MAX - NLA_HDRLEN },
	[KIS_ATTR_CONN] = { .type = NLA_REJECT },
	[KIS_ATTR_LEARN_FOR_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							&kis_learn_for_range),
};

static struct genl_family kis_genl_family;

static int kis_cmd_version(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kis_genl_family, 0,
				KIS_CMD_VERSION);
	if (!hdr)
		goto err_size;
	if (nla_put_u32(msg, KIS_ATTR_PROTO_VERSION, KIS_GENL_VERSION) ||
	    nla_put_string(msg, KIS_ATTR_MODULE_VERSION, KIS_VERSION) ||
	    nla_put_u32(msg, KIS_ATTR_TASKS_WATCHED,
			atomic_read(&kis_tasks_watched)) ||
	    nla_put_u64_64bit(msg, KIS_ATTR_EVENTS_LOST, kis_events_lost(),
			      KIS_ATTR_PAD))
		goto err_size;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_size:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/*
 * Checks the parameter nests of a request: known ids, each once, and the
 * second multiplier not below the first. @load: expected values allowed.
 */
static int kis_params_check(struct nlattr *params, bool load,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIS_PARAM_ATTR_MAX + 1];
	DECLARE_BITMAP(seen, KIS_PARAM_COUNT) = {};
	struct nlattr *nest;
	u32 id, m1, m2;
	int rem, err;

	nla_for_each_nested(nest, params, rem) {
		if (nla_type(nest) != KIS_CELL_ATTR_PARAM) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "KIS_CELL_ATTR_PARAMS holds KIS_CELL_ATTR_PARAM only");
			return -EINVAL;
		}
		err = nla_parse_nested(tb, KIS_PARAM_ATTR_MAX, nest,
				       kis_param_policy, extack);
		if (err)
			return err;
		if (NL_REQ_ATTR_CHECK(extack, nest, tb, KIS_PARAM_ATTR_ID))
			return -EINVAL;
		id = nla_get_u8(tb[KIS_PARAM_ATTR_ID]);
		if (test_and_set_bit(id, seen)) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "a parameter is given twice");
			return -EINVAL;
		}
		if (!load && (tb[KIS_PARAM_ATTR_EXPECT] ||
			      tb[KIS_PARAM_ATTR_TOLERANCE])) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "expected values are set at load only");
			return -EOPNOTSUPP;
		}
		if (tb[KIS_PARAM_ATTR_TOLERANCE] && !tb[KIS_PARAM_ATTR_EXPECT]) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "a tolerance needs an expected value");
			return -EINVAL;
		}
		m1 = tb[KIS_PARAM_ATTR_MULT1] ?
		     nla_get_u16(tb[KIS_PARAM_ATTR_MULT1]) :
		     kis_stat_param(id)->limits.mult1;
		m2 = tb[KIS_PARAM_ATTR_MULT2] ?
		     nla_get_u16(tb[KIS_PARAM_ATTR_MULT2]) :
		     kis_stat_param(id)->limits.mult2;
		if (m2 < m1) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "mult2 is below mult1");
			return -EINVAL;
		}
	}
	return 0;
}

static void kis_params_apply(struct kis_cell *cell, struct nlattr *params)
{
	struct nlattr *tb[KIS_PARAM_ATTR_MAX + 1];
	struct nlattr *nest;
	int rem;

	nla_for_each_nested(nest, params, rem) {
		/* Checked by kis_params_check(). */
		if (nla_parse_nested(tb, KIS_PARAM_ATTR_MAX, nest,
				     kis_param_policy, NULL))
			continue;
		kis_apc_set_param(cell, nla_get_u8(tb[KIS_PARAM_ATTR_ID]), tb);
	}
}

/* The second threshold of the sequence model, checked against the first. */
static int kis_threshold2_check(struct kis_cell *cell, struct nlattr **tb,
				struct netlink_ext_ack *extack)
{
	u32 t1 = tb[KIS_CELL_ATTR_SEQ_THRESHOLD] ?
		 nla_get_u16(tb[KIS_CELL_ATTR_SEQ_THRESHOLD]) :
		 READ_ONCE(cell->threshold);
	u32 t2 = tb[KIS_CELL_ATTR_SEQ_THRESHOLD2] ?
		 nla_get_u16(tb[KIS_CELL_ATTR_SEQ_THRESHOLD2]) :
		 t1 + (KIS_SEQ_SCORE_ONE - t1) / 2;

	if (t2 < t1) {
		NL_SET_ERR_MSG(extack, "threshold2 is below threshold");
		return -EINVAL;
	}
	return t2;
}

/* The settings that may change at run time; checked by the caller. */
static void kis_cell_set_monitor(struct kis_cell *cell, struct nlattr **tb,
				 u32 threshold2)
{
	if (tb[KIS_CELL_ATTR_SEQ_WINDOW])
		WRITE_ONCE(cell->window,
			   nla_get_u16(tb[KIS_CELL_ATTR_SEQ_WINDOW]));
	if (tb[KIS_CELL_ATTR_SEQ_THRESHOLD])
		WRITE_ONCE(cell->threshold,
			   nla_get_u16(tb[KIS_CELL_ATTR_SEQ_THRESHOLD]));
	WRITE_ONCE(cell->threshold2, threshold2);
	if (tb[KIS_CELL_ATTR_DANGER_HOLD1])
		WRITE_ONCE(cell->apc.hold1,
			   nla_get_u16(tb[KIS_CELL_ATTR_DANGER_HOLD1]));
	if (tb[KIS_CELL_ATTR_DANGER_HOLD2])
		WRITE_ONCE(cell->apc.hold2,
			   nla_get_u16(tb[KIS_CELL_ATTR_DANGER_HOLD2]));
	if (tb[KIS_CELL_ATTR_PARAMS]) {
		kis_params_apply(cell, tb[KIS_CELL_ATTR_PARAMS]);
		kis_apc_rearm(cell);
	}
}

/* The expected file tree of hard tolerization. */
static int kis_cell_set_globs(struct kis_cell *cell, struct nlattr *globs,
			      struct netlink_ext_ack *extack)
{
	struct kis_apc *apc = &cell->apc;
	struct nlattr *glob;
	int rem, n = 0;

	nla_for_each_nested(glob, globs, rem) {
		if (nla_type(glob) != KIS_CELL_ATTR_FILE_GLOB ||
		    ++n > KIS_FILE_GLOBS_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, glob,
					    "too many file patterns, or not a file pattern");
			return -EINVAL;
		}
		if (*(char *)nla_data(glob) != '/' ||
		    kis_glob_check(nla_data(glob), NULL)) {
			NL_SET_ERR_MSG_ATTR(extack, glob,
					    "a file pattern must be a valid pattern starting with '/'");
			return -EINVAL;
		}
	}
	if (!n)
		return 0;
	apc->globs = kcalloc(n, sizeof(*apc->globs), GFP_KERNEL);
	if (!apc->globs)
		return -ENOMEM;
	nla_for_each_nested(glob, globs, rem)
		nla_strscpy(apc->globs[apc->nglobs++], glob,
			    sizeof(*apc->globs));
	return 0;
}

static bool kis_cell_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isalnum(*name) && !strchr("_.-", *name))
			return false;
	return true;
}

/* Builds one cell from its attributes; the caller publishes or frees it. */
static struct kis_cell *kis_cell_from_attrs(struct nlattr *nest,
					    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIS_CELL_ATTR_MAX + 1];
	const char *args = "*";
	struct kis_cell *cell;
	u32 max_tasks = KIS_CELL_TASKS_DEFAULT;
	int err;

	err = nla_parse_nested(tb, KIS_CELL_ATTR_MAX, nest, kis_cell_policy,
			       extack);
	if (err)
		return ERR_PTR(err);
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KIS_CELL_ATTR_NAME) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KIS_CELL_ATTR_PROGRAM)) {
		NL_SET_ERR_MSG(extack, "a cell needs a name and a program");
		return ERR_PTR(-EINVAL);
	}
	if (!kis_cell_name_ok(nla_data(tb[KIS_CELL_ATTR_NAME]))) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KIS_CELL_ATTR_NAME],
				    "cell name may only hold letters, digits, '_', '.' and '-'");
		return ERR_PTR(-EINVAL);
	}
	if (!nla_len(tb[KIS_CELL_ATTR_PROGRAM]) ||
	    !*(char *)nla_data(tb[KIS_CELL_ATTR_PROGRAM]) ||
	    kis_glob_check(nla_data(tb[KIS_CELL_ATTR_PROGRAM]), NULL)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KIS_CELL_ATTR_PROGRAM],
				    "program is not a valid pattern");
		return ERR_PTR(-EINVAL);
	}
	if (tb[KIS_CELL_ATTR_ARGS]) {
		args = nla_data(tb[KIS_CELL_ATTR_ARGS]);
		if (kis_glob_check(args, NULL)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIS_CELL_ATTR_ARGS],
					    "args is not a valid pattern");
			return ERR_PTR(-EINVAL);
		}
	}
	if (tb[KIS_CELL_ATTR_MAX_TASKS])
		max_tasks = nla_get_u32(tb[KIS_CELL_ATTR_MAX_TASKS]);
	if (tb[KIS_CELL_ATTR_PARAMS]) {
		err = kis_params_check(tb[KIS_CELL_ATTR_PARAMS], true, extack);
		if (err)
			return ERR_PTR(err);
	}

	cell = kis_cell_alloc(max_tasks);
	if (!cell) {
		NL_SET_ERR_MSG(extack, "out of memory for the cell's task pool");
		return ERR_PTR(-ENOMEM);
	}
	nla_strscpy(cell->name, tb[KIS_CELL_ATTR_NAME], sizeof(cell->name));
	nla_strscpy(cell->program, tb[KIS_CELL_ATTR_PROGRAM],
		    sizeof(cell->program));
	strscpy(cell->args, args, sizeof(cell->args));
	cell->follow_exec = !tb[KIS_CELL_ATTR_FOLLOW_EXEC] ||
			    nla_get_u8(tb[KIS_CELL_ATTR_FOLLOW_EXEC]);
	if (tb[KIS_CELL_ATTR_SEQ_K])
		cell->seq_k = nla_get_u8(tb[KIS_CELL_ATTR_SEQ_K]);
	if (tb[KIS_CELL_ATTR_LEARN_PREFIXES])
		cell->learn_prefixes =
			nla_get_u32(tb[KIS_CELL_ATTR_LEARN_PREFIXES]);
	if (tb[KIS_CELL_ATTR_LEARN_KGRAMS])
		cell->learn_kgrams = nla_get_u32(tb[KIS_CELL_ATTR_LEARN_KGRAMS]);
	if (tb[KIS_CELL_ATTR_STAT_INTERVAL])
		cell->apc.interval_ms =
			nla_get_u32(tb[KIS_CELL_ATTR_STAT_INTERVAL]);
	if (tb[KIS_CELL_ATTR_FILE_TREE])
		cell->apc.tree_cap = nla_get_u32(tb[KIS_CELL_ATTR_FILE_TREE]);
	if (tb[KIS_CELL_ATTR_FILE_GLOBS]) {
		err = kis_cell_set_globs(cell, tb[KIS_CELL_ATTR_FILE_GLOBS],
					 extack);
		if (err)
			goto err_free;
	}
	err = kis_threshold2_check(cell, tb, extack);
	if (err < 0)
		goto err_free;
	kis_cell_set_monitor(cell, tb, err);
	return cell;

err_free:
	kis_cell_free(cell);
	return ERR_PTR(err);
}

static void kis_cells_free_list(struct list_head *cells)
{
	struct kis_cell *cell, *next;

	list_for_each_entry_safe(cell, next, cells, list) {
		list_del(&cell->list);
		kis_cell_free(cell);
	}
}

static bool kis_cells_have_name(struct list_head *cells, const char *name)
{
	struct kis_cell *cell;

	list_for_each_entry(cell, cells, list)
		if (!strcmp(cell->name, name))
			return true;
	return false;
}

/*
 * Loads all cells of the request or none: every cell is built and checked
 * before the first is published.
 */
static int kis_cmd_cell_load(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	LIST_HEAD(fresh);
	struct kis_cell *cell;
	struct nlattr *nest;
	int n = 0, rem, err;

	if (GENL_REQ_ATTR_CHECK(info, KIS_ATTR_CELLS))
		return -EINVAL;
	nla_for_each_nested(nest, info->attrs[KIS_ATTR_CELLS], rem) {
		if (nla_type(nest) != KIS_ATTR_CELL) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "KIS_ATTR_CELLS holds KIS_ATTR_CELL only");
			err = -EINVAL;
			goto err_free;
		}
		if (++n > KIS_LOAD_CELLS_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "too many cells in one request");
			err = -E2BIG;
			goto err_free;
		}
		cell = kis_cell_from_attrs(nest, extack);
		if (IS_ERR(cell)) {
			err = PTR_ERR(cell);
			goto err_free;
		}
		if (kis_cells_have_name(&fresh, cell->name)) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "two cells of the request have the same name");
			kis_cell_free(cell);
			err = -EEXIST;
			goto err_free;
		}
		list_add_tail(&cell->list, &fresh);
	}
	if (!n) {
		NL_SET_ERR_MSG(extack, "no cell in the request");
		return -EINVAL;
	}

	mutex_lock(&kis_config_mutex);
	list_for_each_entry(cell, &fresh, list) {
		if (kis_cell_find(cell->name)) {
			NL_SET_ERR_MSG(extack,
				       "a cell of that name is already loaded; unload it first");
			pr_info("load refused: cell %s is already loaded\n",
				cell->name);
			err = -EEXIST;
			goto err_unlock;
		}
	}
	list_for_each_entry(cell, &fresh, list)
		pr_info("cell %s loaded: program \"%s\" args \"%s\"\n",
			cell->name, cell->program, cell->args);
	err = kis_cells_publish(&fresh);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot attach to the sys_enter tracepoint");
		goto err_unlock;
	}
	err = kis_cells_adopt_running();
	if (err) {
		/* Take back exactly the cells of this request. */
		kis_cells_remove_last(n);
		NL_SET_ERR_MSG(extack, "out of memory scanning running processes");
	}
	mutex_unlock(&kis_config_mutex);
	return err;

err_unlock:
	mutex_unlock(&kis_config_mutex);
err_free:
	kis_cells_free_list(&fresh);
	return err;
}

static int kis_cmd_cell_unload(struct sk_buff *skb, struct genl_info *info)
{
	struct kis_cell *cell;
	int err = 0;

	if (GENL_REQ_ATTR_CHECK(info, KIS_ATTR_CELL_NAME))
		return -EINVAL;
	mutex_lock(&kis_config_mutex);
	cell = kis_cell_find(nla_data(info->attrs[KIS_ATTR_CELL_NAME]));
	if (cell) {
		pr_info("cell %s unloaded\n", cell->name);
		kis_cell_remove(cell);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[KIS_ATTR_CELL_NAME],
				    "no cell of that name is loaded");
		err = -ENOENT;
	}
	mutex_unlock(&kis_config_mutex);
	return err;
}

static int kis_cell_fill(struct sk_buff *skb, struct netlink_callback *cb,
			 struct kis_cell *cell)
{
	u64 joined, left, over, learned, dropped = 0;
	const struct kis_profile *armed;
	u32 ntasks, kgrams = 0, state = 0;
	struct nlattr *nest;
	void *hdr;

	spin_lock(&kis_lock);
	ntasks = cell->ntasks;
	joined = cell->joined;
	left = cell->left;
	over = cell->over_limit;
	spin_unlock(&kis_lock);
	spin_lock(&cell->learn_lock);
	learned = cell->learned;
	if (cell->learner)
		dropped = cell->learner->m.dropped;
	spin_unlock(&cell->learn_lock);
	armed = rcu_dereference_protected(cell->armed,
					  lockdep_is_held(&kis_config_mutex));
	if (armed) {
		state |= KIS_CELL_ARMED;
		kgrams = armed->m.nnext;
	}
	if (test_bit(KIS_FLAG_LEARNING, &cell->flags))
		state |= KIS_CELL_LEARNING;
	if (test_bit(KIS_FLAG_TRACING, &cell->flags))
		state |= KIS_CELL_TRACING;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &kis_genl_family, NLM_F_MULTI, KIS_CMD_CELL_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, KIS_ATTR_CELL);
	if (!nest ||
	    nla_put_string(skb, KIS_CELL_ATTR_NAME, cell->name) ||
	    nla_put_string(skb, KIS_CELL_ATTR_PROGRAM, cell->program) ||
	    nla_put_string(skb, KIS_CELL_ATTR_ARGS, cell->args) ||
	    nla_put_u8(skb, KIS_CELL_ATTR_FOLLOW_EXEC, cell->follow_exec) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_MAX_TASKS, cell->max_tasks) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_TASKS, ntasks) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_JOINED, joined,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_LEFT, left,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_EXECS,
			      atomic64_read(&cell->execs), KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_OVER_LIMIT, over,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_SYSCALLS,
			      kis_cell_syscalls(cell), KIS_CELL_ATTR_PAD) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_ID, cell->id) ||
	    nla_put_u8(skb, KIS_CELL_ATTR_SEQ_K, cell->seq_k) ||
	    nla_put_u16(skb, KIS_CELL_ATTR_SEQ_WINDOW, READ_ONCE(cell->window)) ||
	    nla_put_u16(skb, KIS_CELL_ATTR_SEQ_THRESHOLD,
			READ_ONCE(cell->threshold)) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_LEARN_PREFIXES,
			cell->learn_prefixes) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_LEARN_KGRAMS, cell->learn_kgrams) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_STATE, state) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_LEARNED, learned,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_LEARN_DROPPED, dropped,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_PROFILE_KGRAMS, kgrams) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_ALERTS,
			      atomic64_read(&cell->alerts), KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_TRACE_LOST,
			      atomic64_read(&cell->trace_lost),
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_LEARN_LEFT_MS,
			kis_cell_learn_left_ms(cell)) ||
	    kis_apc_put(skb, cell)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/* One message per cell; cb->args[0] is the index of the next cell. */
static int kis_cmd_cell_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kis_cell *cell;
	long idx = 0;

	mutex_lock(&kis_config_mutex);
	list_for_each_entry(cell, &kis_cells, list) {
		if (idx++ < cb->args[0])
			continue;
		if (kis_cell_fill(skb, cb, cell)) {
			idx--;
			break;
		}
	}
	mutex_unlock(&kis_config_mutex);
	cb->args[0] = idx;
	return skb->len;
}

struct kis_task_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int kis_task_fill(struct kis_task *t, void *arg)
{
	struct kis_task_dump *d = arg;
	struct sk_buff *skb = d->skb;
	char comm[TASK_COMM_LEN];
	struct nlattr *nest;
	void *hdr;

	__get_task_comm(comm, sizeof(comm), t->task);
	hdr = genlmsg_put(skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &kis_genl_family, NLM_F_MULTI,
			  KIS_CMD_TASK_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, KIS_ATTR_TASK);
	if (!nest ||
	    nla_put_string(skb, KIS_TASK_ATTR_CELL, t->cell->name) ||
	    nla_put_u32(skb, KIS_TASK_ATTR_PID, READ_ONCE(t->pid)) ||
	    nla_put_u32(skb, KIS_TASK_ATTR_TGID, t->tgid) ||
	    nla_put_string(skb, KIS_TASK_ATTR_COMM, comm) ||
	    nla_put_u64_64bit(skb, KIS_TASK_ATTR_SYSCALLS,
			      READ_ONCE(t->syscalls), KIS_TASK_ATTR_PAD) ||
	    nla_put_u32(skb, KIS_TASK_ATTR_SCORE, kis_task_score(t)) ||
	    nla_put_u32(skb, KIS_TASK_ATTR_MAX_SCORE, READ_ONCE(t->max_score))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * One message per watched task; cb->args[0..1] is the walk's cursor. Slots
 * and cells are only reused or freed after a grace period, so RCU is all
 * the walk needs.
 */
static int kis_cmd_task_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kis_task_dump d = { .skb = skb, .cb = cb };

	rcu_read_lock();
	kis_tasks_walk(cb->args, kis_task_fill, &d);
	rcu_read_unlock();
	return skb->len;
}

/* The cell a request names; caller holds kis_config_mutex. */
static struct kis_cell *kis_cell_from_request(struct genl_info *info)
{
	struct kis_cell *cell;

	if (GENL_REQ_ATTR_CHECK(info, KIS_ATTR_CELL_NAME))
		return ERR_PTR(-EINVAL);
	cell = kis_cell_find(nla_data(info->attrs[KIS_ATTR_CELL_NAME]));
	if (!cell) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[KIS_ATTR_CELL_NAME],
				    "no cell of that name is loaded");
		return ERR_PTR(-ENOENT);
	}
	return cell;
}

static int kis_cmd_cell_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[KIS_CELL_ATTR_MAX + 1];
	struct kis_cell *cell;
	int i, err;

	if (GENL_REQ_ATTR_CHECK(info, KIS_ATTR_CELL))
		return -EINVAL;
	err = nla_parse_nested(tb, KIS_CELL_ATTR_MAX, info->attrs[KIS_ATTR_CELL],
			       kis_cell_policy, info->extack);
	if (err)
		return err;
	for (i = 0; i <= KIS_CELL_ATTR_MAX; i++) {
		if (tb[i] && i != KIS_CELL_ATTR_SEQ_WINDOW &&
		    i != KIS_CELL_ATTR_SEQ_THRESHOLD &&
		    i != KIS_CELL_ATTR_SEQ_THRESHOLD2 &&
		    i != KIS_CELL_ATTR_DANGER_HOLD1 &&
		    i != KIS_CELL_ATTR_DANGER_HOLD2 &&
		    i != KIS_CELL_ATTR_PARAMS) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[i],
					    "only the window, the thresholds, the holds and the parameters' limits change at run time");
			return -EOPNOTSUPP;
		}
	}
	if (tb[KIS_CELL_ATTR_PARAMS]) {
		err = kis_params_check(tb[KIS_CELL_ATTR_PARAMS], false,
				       info->extack);
		if (err)
			return err;
	}
	mutex_lock(&kis_config_mutex);
	cell = kis_cell_from_request(info);
	if (IS_ERR(cell)) {
		err = PTR_ERR(cell);
		goto out;
	}
	/* A new threshold without a new threshold2 keeps the old one. */
	if (!tb[KIS_CELL_ATTR_SEQ_THRESHOLD2]) {
		err = READ_ONCE(cell->threshold2);
		if (tb[KIS_CELL_ATTR_SEQ_THRESHOLD] &&
		    err < nla_get_u16(tb[KIS_CELL_ATTR_SEQ_THRESHOLD])) {
			NL_SET_ERR_MSG(info->extack,
				       "threshold would be above threshold2; set both");
			err = -EINVAL;
			goto out;
		}
	} else {
		err = kis_threshold2_check(cell, tb, info->extack);
		if (err < 0)
			goto out;
	}
	kis_cell_set_monitor(cell, tb, err);
	err = 0;
out:
	mutex_unlock(&kis_config_mutex);
	return err;
}

static int kis_cmd_learn(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *for_attr = info->attrs[KIS_ATTR_LEARN_FOR_MS];
	u32 for_ms = for_attr ? nla_get_u32(for_attr) : 0;
	struct kis_cell *cell;
	int err = 0;

	if (for_attr && info->genlhdr->cmd != KIS_CMD_LEARN_START) {
		NL_SET_ERR_MSG_ATTR(info->extack, for_attr,
				    "a duration is for starting only");
		return -EINVAL;
	}
	mutex_lock(&kis_config_mutex);
	cell = kis_cell_from_request(info);
	if (IS_ERR(cell)) {
		err = PTR_ERR(cell);
	} else if (info->genlhdr->cmd == KIS_CMD_LEARN_STOP) {
		err = kis_cell_learn_stop(cell);
		if (err)
			NL_SET_ERR_MSG(info->extack,
				       "learning stopped, but out of memory arming the statistics");
	} else if (test_bit(KIS_FLAG_LEARNING, &cell->flags)) {
		NL_SET_ERR_MSG(info->extack,
			       "the cell is learning already; stop it first");
		err = -EBUSY;
	} else {
		err = kis_cell_learn_start(cell, for_ms);
		if (err)
			NL_SET_ERR_MSG(info->extack,
				       "out of memory for the learning model; lower learn_prefixes, learn_kgrams or file_tree");
	}
	mutex_unlock(&kis_config_mutex);
	return err;
}

static int kis_cmd_trace(struct sk_buff *skb, struct genl_info *info)
{
	struct kis_cell *cell;

	mutex_lock(&kis_config_mutex);
	cell = kis_cell_from_request(info);
	if (!IS_ERR(cell)) {
		if (info->genlhdr->cmd == KIS_CMD_TRACE_START) {
			set_bit(KIS_FLAG_TRACING, &cell->flags);
		} else {
			clear_bit(KIS_FLAG_TRACING, &cell->flags);
			/* Records already queued reach the listener first. */
			synchronize_rcu();
			kis_trace_flush();
		}
	}
	mutex_unlock(&kis_config_mutex);
	return PTR_ERR_OR_ZERO(cell);
}

/*
 * Copies the request's KIS_ATTR_PROFILE_CHUNKs, in order, into one buffer.
 * They are top-level attributes, each validated by the family policy.
 */
static u8 *kis_profile_gather(struct genl_info *info, size_t *len)
{
	struct netlink_ext_ack *extack = info->extack;
	const struct nlattr *chunk;
	size_t total = 0;
	u8 *buf;
	int rem;

	nlmsg_for_each_attr(chunk, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(chunk) != KIS_ATTR_PROFILE_CHUNK)
			continue;
		total += nla_len(chunk);
		if (total > KIS_PROFILE_SIZE_MAX) {
			NL_SET_ERR_MSG(extack, "profile too large");
			return ERR_PTR(-E2BIG);
		}
	}
	if (!total) {
		NL_SET_ERR_MSG(extack, "empty profile");
		return ERR_PTR(-EINVAL);
	}
	buf = kvmalloc(total, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	*len = 0;
	nlmsg_for_each_attr(chunk, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(chunk) != KIS_ATTR_PROFILE_CHUNK)
			continue;
		memcpy(buf + *len, nla_data(chunk), nla_len(chunk));
		*len += nla_len(chunk);
	}
	return buf;
}

/*
 * Builds a model from an untrusted blob: the core checks every size and
 * count before anything is read, and refuses duplicates.
 */
static struct kis_profile *kis_profile_from_blob(const u8 *buf, size_t len,
						 struct netlink_ext_ack *extack)
{
	struct kis_profile *prof;
	u32 k, np, nn;
	int err;

	err = kis_seq_blob_check(buf, len, &k, &np, &nn);
	if (err) {
		NL_SET_ERR_MSG(extack, "malformed profile");
		return ERR_PTR(err);
	}
	prof = kis_profile_alloc(k, max(np, 1U), max(nn, 1U));
	if (!prof) {
		NL_SET_ERR_MSG(extack, "out of memory for the profile");
		return ERR_PTR(-ENOMEM);
	}
	err = kis_seq_blob_read(&prof->m, buf, len);
	if (err) {
		NL_SET_ERR_MSG(extack, "malformed profile: duplicate entries");
		kis_profile_free(prof);
		return ERR_PTR(-EINVAL);
	}
	return prof;
}

static int kis_cmd_profile_load(struct sk_buff *skb, struct genl_info *info)
{
	struct kis_profile *prof = NULL;
	struct kis_cell *cell;
	size_t len;
	u8 *buf;
	int err = 0;

	if (info->genlhdr->cmd == KIS_CMD_PROFILE_LOAD) {
		if (GENL_REQ_ATTR_CHECK(info, KIS_ATTR_PROFILE_CHUNK))
			return -EINVAL;
		buf = kis_profile_gather(info, &len);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		prof = kis_profile_from_blob(buf, len, info->extack);
		kvfree(buf);
		if (IS_ERR(prof))
			return PTR_ERR(prof);
	}
	mutex_lock(&kis_config_mutex);
	cell = kis_cell_from_request(info);
	if (IS_ERR(cell)) {
		err = PTR_ERR(cell);
		kis_profile_free(prof);
	} else {
		kis_profile_arm(cell, prof);
		pr_info("cell %s %s\n", cell->name,
			prof ? "armed with a profile" : "disarmed");
	}
	mutex_unlock(&kis_config_mutex);
	return err;
}

/*
 * Profile dump: .start serialises the profile once (cb->args[0] holds the
 * buffer, [1] its size, [2] the bytes sent); each message carries a chunk.
 */
static int kis_profile_dump_start(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr **attrs = info->attrs;
	const struct kis_profile *prof;
	struct kis_cell *cell;
	u8 source = KIS_PROFILE_LEARNED;
	size_t size;
	u8 *buf;
	int err = 0;

	if (!attrs[KIS_ATTR_CELL_NAME]) {
		NL_SET_ERR_MSG(cb->extack, "name the cell");
		return -EINVAL;
	}
	if (attrs[KIS_ATTR_PROFILE_SOURCE])
		source = nla_get_u8(attrs[KIS_ATTR_PROFILE_SOURCE]);
	mutex_lock(&kis_config_mutex);
	cell = kis_cell_find(nla_data(attrs[KIS_ATTR_CELL_NAME]));
	if (!cell) {
		NL_SET_ERR_MSG(cb->extack, "no cell of that name is loaded");
		err = -ENOENT;
		goto out;
	}
	if (source == KIS_PROFILE_ARMED) {
		prof = rcu_dereference_protected(cell->armed,
						 lockdep_is_held(&kis_config_mutex));
	} else {
		if (test_bit(KIS_FLAG_LEARNING, &cell->flags)) {
			NL_SET_ERR_MSG(cb->extack,
				       "the cell is still learning; stop learning first");
			err = -EBUSY;
			goto out;
		}
		/* Stopped: nothing writes the learner any more. */
		prof = cell->learner;
	}
	if (!prof) {
		if (source == KIS_PROFILE_ARMED)
			NL_SET_ERR_MSG(cb->extack, "the cell has no profile loaded");
		else
			NL_SET_ERR_MSG(cb->extack, "the cell has learned nothing yet");
		err = -ENODATA;
		goto out;
	}
	size = kis_seq_blob_size(&prof->m);
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	kis_seq_blob_write(&prof->m, buf, size);
	cb->args[0] = (long)buf;
	cb->args[1] = size;
	cb->args[2] = 0;
out:
	mutex_unlock(&kis_config_mutex);
	return err;
}

static int kis_profile_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const u8 *buf = (const u8 *)cb->args[0];
	size_t size = cb->args[1], sent = cb->args[2];
	size_t room, n;
	void *hdr;

	if (sent >= size)
		return 0;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &kis_genl_family, NLM_F_MULTI, KIS_CMD_PROFILE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KIS_ATTR_PROFILE_SIZE, size))
		goto cancel;
	room = skb_tailroom(skb);
	if (room < nla_total_size(64))
		goto cancel;
	n = min3(size - sent, room - nla_total_size(0),
		 (size_t)KIS_PROFILE_CHUNK_MAX);
	n = ALIGN_DOWN(n, 4);
	if (!n)
		n = size - sent;
	if (nla_put(skb, KIS_ATTR_PROFILE_CHUNK, n, buf + sent))
		goto cancel;
	genlmsg_end(skb, hdr);
	cb->args[2] = sent + n;
	return skb->len;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int kis_profile_dump_done(struct netlink_callback *cb)
{
	kvfree((void *)cb->args[0]);
	return 0;
}

static int kis_conn_fill(struct sk_buff *skb, struct netlink_callback *cb,
			 const struct kis_cell *cell, const struct kis_conn *c)
{
	const struct tcp_sock *tp = tcp_sk(c->sk);
	struct nlattr *nest;
	u8 level = 0;
	void *hdr;
	int i;

	for (i = 0; i < KIS_CONN_PARAMS; i++)
		level = max(level, c->danger[i].level);
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &kis_genl_family, NLM_F_MULTI, KIS_CMD_CONN_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, KIS_ATTR_CONN);
	if (!nest ||
	    nla_put_string(skb, KIS_CONN_ATTR_CELL, cell->name) ||
	    nla_put(skb, KIS_CONN_ATTR_PEER, sizeof(c->peer), &c->peer) ||
	    nla_put_u32(skb, KIS_CONN_ATTR_PID, c->pid) ||
	    nla_put_u32(skb, KIS_CONN_ATTR_TGID, c->tgid) ||
	    nla_put_u64_64bit(skb, KIS_CONN_ATTR_RX_BYTES,
			      READ_ONCE(tp->bytes_received), KIS_CONN_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CONN_ATTR_TX_BYTES,
			      READ_ONCE(tp->bytes_sent), KIS_CONN_ATTR_PAD) ||
	    nla_put_u8(skb, KIS_CONN_ATTR_LEVEL, level)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * One message per tracked connection; cb->args[0] is the index of the cell,
 * [1] of the connection in it. Connections that come and go between two
 * parts of a dump may be missed or seen twice.
 */
static int kis_cmd_conn_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct kis_conn *c;
	struct kis_cell *cell;
	long cidx = 0, idx;
	int err = 0;

	mutex_lock(&kis_config_mutex);
	list_for_each_entry(cell, &kis_cells, list) {
		if (cidx++ < cb->args[0])
			continue;
		idx = 0;
		spin_lock(&cell->apc.lock);
		list_for_each_entry(c, &cell->apc.conns, node) {
			if (idx++ < cb->args[1])
				continue;
			err = kis_conn_fill(skb, cb, cell, c);
			if (err)
				break;
			cb->args[1] = idx;
		}
		spin_unlock(&cell->apc.lock);
		if (err) {
			cidx--;
			break;
		}
		cb->args[1] = 0;
	}
	mutex_unlock(&kis_config_mutex);
	cb->args[0] = cidx;
	return skb->len;
}

static int kis_cmd_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	bool armed = info->attrs[KIS_ATTR_PROFILE_SOURCE] &&
		     nla_get_u8(info->attrs[KIS_ATTR_PROFILE_SOURCE]) ==
		     KIS_PROFILE_ARMED;
	struct kis_cell *cell;
	struct sk_buff *msg;
	size_t len = 0;
	u8 *buf = NULL;
	void *hdr;
	int err;

	mutex_lock(&kis_config_mutex);
	cell = kis_cell_from_request(info);
	if (IS_ERR(cell)) {
		mutex_unlock(&kis_config_mutex);
		return PTR_ERR(cell);
	}
	buf = kis_apc_blob(cell, armed, &len);
	mutex_unlock(&kis_config_mutex);
	if (IS_ERR(buf)) {
		err = PTR_ERR(buf);
		if (err == -EBUSY)
			NL_SET_ERR_MSG(info->extack,
				       "the cell is still learning; stop learning first");
		else if (err == -ENODATA && armed)
			NL_SET_ERR_MSG(info->extack,
				       "the cell has no statistics armed");
		else if (err == -ENODATA)
			NL_SET_ERR_MSG(info->extack,
				       "the cell has learned no statistics yet");
		return err;
	}
	err = -EMSGSIZE;
	msg = genlmsg_new(nla_total_size(len), GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	hdr = genlmsg_put_reply(msg, info, &kis_genl_family, 0,
				KIS_CMD_STATS_GET);
	if (!hdr || nla_put(msg, KIS_ATTR_STATS, len, buf)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	kvfree(buf);
	return err;
}

static int kis_cmd_stats_load(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *blob = info->attrs[KIS_ATTR_STATS];
	struct kis_cell *cell;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KIS_ATTR_STATS))
		return -EINVAL;
	mutex_lock(&kis_config_mutex);
	cell = kis_cell_from_request(info);
	if (IS_ERR(cell)) {
		err = PTR_ERR(cell);
	} else {
		err = kis_apc_blob_load(cell, nla_data(blob), nla_len(blob));
		if (err == -EINVAL)
			NL_SET_ERR_MSG_ATTR(info->extack, blob,
					    "malformed statistics");
		else if (!err)
			pr_info("cell %s armed with statistics\n", cell->name);
	}
	mutex_unlock(&kis_config_mutex);
	return err;
}

static const struct genl_small_ops kis_ops[] = {
	{
		.cmd = KIS_CMD_VERSION,
		.doit = kis_cmd_version,
	},
	{
		.cmd = KIS_CMD_CELL_LOAD,
		.doit = kis_cmd_cell_load,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_CELL_UNLOAD,
		.doit = kis_cmd_cell_unload,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_CELL_GET,
		.dumpit = kis_cmd_cell_dump,
	},
	{
		.cmd = KIS_CMD_TASK_GET,
		.dumpit = kis_cmd_task_dump,
	},
	{
		.cmd = KIS_CMD_CELL_SET,
		.doit = kis_cmd_cell_set,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_LEARN_START,
		.doit = kis_cmd_learn,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_LEARN_STOP,
		.doit = kis_cmd_learn,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_PROFILE_LOAD,
		.doit = kis_cmd_profile_load,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_PROFILE_UNLOAD,
		.doit = kis_cmd_profile_load,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_TRACE_START,
		.doit = kis_cmd_trace,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_TRACE_STOP,
		.doit = kis_cmd_trace,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_CONN_GET,
		.dumpit = kis_cmd_conn_dump,
	},
	{
		.cmd = KIS_CMD_STATS_GET,
		.doit = kis_cmd_stats_get,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KIS_CMD_STATS_LOAD,
		.doit = kis_cmd_stats_load,
		.flags = GENL_ADMIN_PERM,
	},
};

/* The profile dump needs .start and .done, which small ops lack. */
static const struct genl_ops kis_big_ops[] = {
	{
		.cmd = KIS_CMD_PROFILE_GET,
		.start = kis_profile_dump_start,
		.dumpit = kis_profile_dump,
		.done = kis_profile_dump_done,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group kis_mcgrps[] = {
	[KIS_MCGRP_EVENTS] = { .name = KIS_GENL_MCGRP_EVENTS },
	[KIS_MCGRP_TRACE] = { .name = KIS_GENL_MCGRP_TRACE },
};

static struct genl_family kis_genl_family __ro_after_init = {
	.name = KIS_GENL_NAME,
	.version = KIS_GENL_VERSION,
	.maxattr = KIS_ATTR_MAX,
	.policy = kis_policy,
	.module = THIS_MODULE,
	.small_ops = kis_ops,
	.n_small_ops = ARRAY_SIZE(kis_ops),
	.ops = kis_big_ops,
	.n_ops = ARRAY_SIZE(kis_big_ops),
	.resv_start_op = __KIS_CMD_MAX,
	.mcgrps = kis_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kis_mcgrps),
};

/**
 * kis_genl_put() - start an event message of the family
 * @skb: the message
 * @cmd: KIS_CMD_ALERT or KIS_CMD_TRACE
 *
 * Return: the header, or NULL if @skb is too small.
 */
void *kis_genl_put(struct sk_buff *skb, u8 cmd)
{
	return genlmsg_put(skb, 0, 0, &kis_genl_family, 0, cmd);
}

/**
 * kis_genl_multicast() - send a finished event message to a group
 * @skb: the message; consumed
 * @group: enum kis_mcgrp
 *
 * Return: 0, or -ESRCH when nobody listens (not an error for events).
 */
int kis_genl_multicast(struct sk_buff *skb, unsigned int group)
{
	return genlmsg_multicast(&kis_genl_family, skb, 0, group, GFP_KERNEL);
}

/**
 * kis_genl_init() - register the "kis" generic netlink family
 *
 * Return: 0 or the error of genl_register_family().
 */
int kis_genl_init(void)
{
	return genl_register_family(&kis_genl_family);
}

/**
 * kis_genl_exit() - unregister the family; no command runs afterwards
 */
void kis_genl_exit(void)
{
	genl_unregister_family(&kis_genl_family);
}
