// SPDX-License-Identifier: GPL-2.0
/*
 * KIS, the Linux Kernel Immune System: module entry and exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "kis_internal.h"

static int __init kis_init(void)
{
	int err;

	err = kis_events_init();
	if (err)
		return err;
	err = kis_hooks_init();
	if (err)
		goto err_events;
	err = kis_genl_init();
	if (err)
		goto err_hooks;
	pr_info("KIS %s loaded, protocol %d\n", KIS_VERSION, KIS_GENL_VERSION);
	return 0;

err_hooks:
	kis_hooks_exit();
err_events:
	kis_events_exit();
	return err;
}

static void __exit kis_exit(void)
{
	/*
	 * Events stop being sent while the family still exists; then the
	 * family goes, after which no command runs (none can attach a probe
	 * any more); then the probes, then what they used.
	 */
	kis_events_close();
	kis_genl_exit();
	kis_hooks_exit();
	kis_events_exit();
	mutex_lock(&kis_config_mutex);
	kis_cells_remove_all();
	mutex_unlock(&kis_config_mutex);
	pr_info("KIS unloaded\n");
}

module_init(kis_init);
module_exit(kis_exit);

MODULE_DESCRIPTION("KIS: Linux Kernel Immune System, host intrusion prevention");
MODULE_AUTHOR("The KIS developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(KIS_VERSION);
