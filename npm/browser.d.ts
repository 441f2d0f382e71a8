// The browser entry's types are the package's (every entry exports the same
// names); this file is for resolvers that look beside browser.js for them.
export * from './index.js';
