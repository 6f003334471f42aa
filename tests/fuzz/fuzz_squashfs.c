/* SPDX-License-Identifier: MIT */
/* Stage 1's check of the root image's superblock, on any file contents. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "init/stage1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	int fd = memfd_create("sqsh", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size)
		stage1_check_squashfs(fd, err, sizeof(err));
	close(fd);
	return 0;
}
