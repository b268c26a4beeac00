#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
// Only the reply reader is used: the bytes come from a SwiftNIO channel, never from hiredis's own sockets.
#include <hiredis/read.h>
#include <hiredis/hiredis.h>

// The reply reader and its arena (RedisClient's Protocol/ReplyArena.swift) are written against hiredis 0.x's
// redisReplyObjectFunctions and reader: a build against another major version stops here, not in a crash.
_Static_assert(HIREDIS_MAJOR == 0, "RedisClient's reply reader is written for hiredis 0.x (Debian's libhiredis-dev 0.14)");
#endif
