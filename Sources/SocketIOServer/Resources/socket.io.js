/* The browser client is being written; see issue 4. */
