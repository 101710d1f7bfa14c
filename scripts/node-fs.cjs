// The bundle's imports of node:fs go through require(): an ESM import of node:fs makes Node build
// its ES module facade, which reads every export, lazy ones included, and so loads fs/promises,
// the streams and readline on every run, whether they are used or not.
'use strict';
module.exports = require('fs'); // not node:fs: that name is the alias, and would be this file
