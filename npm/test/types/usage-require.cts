// Compiled by `tsc -p tsconfig.json`, never run: the package as a CommonJS
// TypeScript file sees it (the `require` condition of the exports map).
import captoken = require('captoken');

export function verifyWithRequire(token: string, jwks: captoken.Jwks): string {
  try {
    return captoken.verify({ token, jwks, issuer: 'https://gw.example', audience: 'robot-gateway' }).root_sub;
  } catch (err) {
    if (err instanceof captoken.CaptokenError) return err.code;
    throw err;
  }
}
