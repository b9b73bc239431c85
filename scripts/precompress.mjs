// Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside every file of a folder (not
// its subfolders), and prints each file's size raw, gzip and brotli, and the totals.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2];
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const total = { raw: 0, gz: 0, br: 0 };
for (const name of readdirSync(dir).sort()) {
  if (name.endsWith(".br") || name.endsWith(".gz")) continue;
  if (!statSync(join(dir, name)).isFile()) continue;
  const raw = readFileSync(join(dir, name));
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(join(dir, `${name}.br`), br);
  writeFileSync(join(dir, `${name}.gz`), gz);
  total.raw += raw.length;
  total.gz += gz.length;
  total.br += br.length;
  console.log(`${name.padEnd(34)} ${kb(raw.length).padStart(12)} raw ${kb(gz.length).padStart(11)} gzip ${kb(br.length).padStart(11)} brotli`);
}
console.log(`${"total".padEnd(34)} ${kb(total.raw).padStart(12)} raw ${kb(total.gz).padStart(11)} gzip ${kb(total.br).padStart(11)} brotli`);
