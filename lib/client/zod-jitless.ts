import { z } from 'zod';

// zod compiles parsers with `new Function` when it may; its probe for that is reported
// as a CSP violation (the policy forbids eval), so the browser parses without it. Its own
// module, imported first: a schema built before this runs has already probed.
z.config({ jitless: true });
