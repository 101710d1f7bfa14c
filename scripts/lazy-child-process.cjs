// commander requires node:child_process at load time for executable subcommands, which m365fw
// does not use; the real module (and net, dgram, streams it pulls in) loads on first use only.
'use strict';
let real;
module.exports = new Proxy(
  {},
  {
    get: (_, key) => (real ??= require('node:child_process'))[key],
    has: (_, key) => key in (real ??= require('node:child_process')),
  },
);
