/** The cache's folder in a project root. A module of its own: the no-op proof's path needs it without the project's modules. */
export const CACHE_DIR = '.ocrcache';
