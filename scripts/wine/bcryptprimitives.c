/*
 * A test-only stand-in for Windows' bcryptprimitives.dll, for running Windows Node and the addon under
 * Wine 8 (scripts/fetch-test-runtimes.sh builds it with mingw-w64 and puts it in the Wine prefix's
 * system32). Rust's std (1.78 and later) takes its random numbers, e.g. the seeds of HashMap, from
 * ProcessPrng in bcryptprimitives.dll, which every Windows 10 and later has; Wine 8 has no such DLL, so
 * loading any Rust DLL fails there. This one implements ProcessPrng with RtlGenRandom
 * (advapi32's SystemFunction036), which Wine does implement. It never ships: real Windows has the real DLL.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  /* RtlGenRandom takes a ULONG length: feed it in chunks. */
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
