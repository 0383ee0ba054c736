// PHOTO_CONCURRENCY's default and libuv's thread pool size, computed once for the two that need
// them: src/threadpool.cjs, which sizes the pool before anything else runs (so this file is
// CommonJS, required, and requires nothing of the project), and photo-config.ts, which checks
// that images leave threads for the rest. Its types are its JSDoc, checked by tsc (@ts-check).
// @ts-check
'use strict';
const { availableParallelism } = require('node:os');

/** libuv's largest thread pool. */
const MAX_THREAD_POOL_SIZE = 1024;
/** libuv's pool when UV_THREADPOOL_SIZE is unset: what Node has for DNS, file reads and zlib. */
const DEFAULT_THREAD_POOL_SIZE = 4;

/** @typedef {Readonly<Record<string, string | undefined>>} Env */

/**
 * libuv's thread pool: 4 threads unless `UV_THREADPOOL_SIZE` (which src/threadpool.cjs sets) says otherwise.
 * @param {Env} env
 * @returns {number}
 */
function threadPoolSize(env) {
  const value = Number(env['UV_THREADPOOL_SIZE']?.trim() || DEFAULT_THREAD_POOL_SIZE);
  return Number.isInteger(value) && value > 0 ? Math.min(value, MAX_THREAD_POOL_SIZE) : DEFAULT_THREAD_POOL_SIZE;
}

/**
 * Images at work at once when PHOTO_CONCURRENCY is unset: sharp takes one of the pool's threads
 * per image, and dns.lookup needs one for every Graph call's host name, so the cores, leaving two
 * threads of the pool free.
 * @param {number} poolSize
 * @returns {number}
 */
function defaultPhotoConcurrency(poolSize) {
  return Math.max(1, Math.min(availableParallelism(), poolSize - 2));
}

/**
 * The pool src/threadpool.cjs gives when UV_THREADPOOL_SIZE is unset: the images at work at once
 * (PHOTO_CONCURRENCY, or its default with no pool to bound it) plus the 4 threads Node gives
 * everything else.
 * @param {Env} env
 * @returns {number}
 */
function threadPoolSizeForImages(env) {
  const configured = Number(env['PHOTO_CONCURRENCY']);
  const images = Number.isInteger(configured) && configured > 0 ? configured : defaultPhotoConcurrency(MAX_THREAD_POOL_SIZE);
  return Math.min(MAX_THREAD_POOL_SIZE, images + DEFAULT_THREAD_POOL_SIZE);
}

module.exports = { threadPoolSize, defaultPhotoConcurrency, threadPoolSizeForImages };
