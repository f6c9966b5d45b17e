// Symbol visibility. Banyan builds with -fvisibility=hidden; only what carries
// BANYAN_EXPORT is part of the shared library's ABI.
#pragma once

#if defined(_WIN32)
#define BANYAN_EXPORT __declspec(dllexport)
#else
#define BANYAN_EXPORT __attribute__((visibility("default")))
#endif
