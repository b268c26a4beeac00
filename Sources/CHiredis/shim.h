#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
// Only the reply reader is used: the bytes come from a SwiftNIO channel, never from hiredis's own sockets.
#include <hiredis/read.h>
#include <hiredis/hiredis.h>
#endif
