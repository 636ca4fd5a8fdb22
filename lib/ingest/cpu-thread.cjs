// Worker-thread entry of the CPU pool (lib/ingest/cpu-pool.ts): the task module, compiled or, when
// running from TypeScript sources, through tsx registered in this thread.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
if (!existsSync(join(__dirname, 'cpu-tasks.js'))) require('tsx/cjs/api').register();
module.exports = require('./cpu-tasks');
