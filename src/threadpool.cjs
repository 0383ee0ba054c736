// Loaded first, with `node --require` (npm start and npm run demo do): sizes libuv's thread pool
// before anything uses it. sharp works on that pool, one thread per image at work, and so do
// dns.lookup (every Graph call's host name), file reads and zlib. With the default 4 threads and
// 4 images at work, a Graph call would wait for an image to finish before its host name is even
// looked up. The pool is made on first use, and Node's ES module loader reads files through it,
// so this cannot be done from an ES module: only a CommonJS file loaded by --require comes first
// (require reads files without the pool).
//
// An explicit UV_THREADPOOL_SIZE is kept; otherwise the pool gets PHOTO_CONCURRENCY (or the
// number of cores, its default) plus the 4 threads Node gives everything else. The gateway's
// configuration then checks that images cannot take every thread (src/config/photo-config.ts);
// both compute the default in src/config/photo-concurrency.cjs.
'use strict';
const { threadPoolSizeForImages } = require('./config/photo-concurrency.cjs');

if (!process.env.UV_THREADPOOL_SIZE) {
  process.env.UV_THREADPOOL_SIZE = String(threadPoolSizeForImages(process.env));
}
