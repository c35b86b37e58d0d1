/**
 * Lets a child process run the service's TypeScript directly (`node -r ./tests/support/ts-register.js
 * app/main.ts`), so start-up tests need no build: each .ts file is transpiled on require, without
 * type checking (npm run typecheck does that).
 */
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  module._compile(outputText, filename);
};
