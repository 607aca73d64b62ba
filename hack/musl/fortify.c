// __fprintf_chk, glibc's fortified fprintf, for musl builds: Debian's
// libseccomp.a was compiled against glibc with _FORTIFY_SOURCE, and this
// is the one fortified call it makes (in its PFC export). musl has no
// such entry points; the checks fortify would add are on the format's
// %n, which libseccomp never uses.
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;
	(void)flag;
	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
