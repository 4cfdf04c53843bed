'use strict';
// Preloaded into the Azurite child (node --require). The world holds the write end of this process's stdin pipe;
// when the world's process dies for any reason, even SIGKILL, the pipe closes and Azurite goes with it instead of
// lingering as an orphan holding a port.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
