/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * version.h - the one version string of ptftpd and ptftpd-stat (-V, and
 * ptftpd_build_info in the stats). A build may set it from outside with
 * -DPTFTPD_VERSION='"x.y.z"'. Nothing else lives here.
 */
#ifndef PTFTPD_VERSION_H
#define PTFTPD_VERSION_H

#ifndef PTFTPD_VERSION
#define PTFTPD_VERSION	"0.1.0"
#endif

#endif
