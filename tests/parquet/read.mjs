// read.mjs - read a Parquet file with one of two independent readers and
// print what it holds, so that the tests can compare our writer's files with
// the CSV export of the same rows.
//
//   node read.mjs csv    duckdb|hyparquet FILE   rows as CSV, header first
//   node read.mjs json   duckdb|hyparquet FILE   rows as JSON arrays, one a line
//   node read.mjs schema duckdb|hyparquet FILE   "name<TAB>type" per column
//   node read.mjs meta   hyparquet FILE          row count, row groups, codecs
//
// The CSV is written the way mxcensus writes it (analysis/export.c): LF line
// ends, a field quoted (quotes doubled) only when it holds a comma, a quote,
// CR or LF; null is an empty field. JSON keeps null apart from "", and
// prints 64-bit integers as decimal strings so that no digit is lost.
//
// DuckDB (@duckdb/node-api, its own C++ Parquet reader) and hyparquet (pure
// JavaScript, with hyparquet-compressors' JavaScript ZSTD decoder) share no
// code with each other or with us: a file both read back as written is a
// file other tools will read too.
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

function usage() {
	process.stderr.write('usage: node read.mjs csv|json|schema duckdb|hyparquet FILE\n' +
		'       node read.mjs meta hyparquet FILE\n');
	process.exit(2);
}

function csvField(v) {
	if (v === null || v === undefined)
		return '';
	const s = typeof v === 'bigint' ? v.toString() : String(v);
	return /[,"\r\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

function jsonValue(v) {
	if (v === undefined)
		return null;
	return typeof v === 'bigint' ? v.toString() : v;
}

// Each reader returns { names, types, rows } with rows as arrays of values.
async function readDuckdb(file, wantRows) {
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	const src = `read_parquet('${file.replaceAll("'", "''")}')`;
	const desc = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
	const schema = desc.getRowObjects();
	const out = {
		names: schema.map((r) => r.column_name),
		types: schema.map((r) => r.column_type),
		rows: [],
	};
	if (wantRows) {
		const res = await con.runAndReadAll(`SELECT * FROM ${src}`);
		out.rows = res.getRowsJS();
	}
	con.closeSync();
	return out;
}

async function readHyparquet(file, wantRows) {
	const buf = await asyncBufferFromFile(file);
	const meta = await parquetMetadataAsync(buf);
	const leaves = meta.schema.slice(1);
	const out = {
		meta,
		names: leaves.map((e) => e.name),
		types: leaves.map((e) => `${e.type}/${e.logical_type?.type ?? e.converted_type ?? ''}`),
		rows: [],
	};
	if (wantRows) {
		const objs = await parquetReadObjects({ file: buf, metadata: meta, compressors });
		out.rows = objs.map((o) => out.names.map((n) => o[n]));
	}
	return out;
}

async function main() {
	const [cmd, reader, file] = process.argv.slice(2);
	if (!file || !['duckdb', 'hyparquet'].includes(reader))
		usage();
	const read = reader === 'duckdb' ? readDuckdb : readHyparquet;
	const lines = [];
	if (cmd === 'csv' || cmd === 'json') {
		const t = await read(file, true);
		if (cmd === 'csv') {
			lines.push(t.names.map(csvField).join(','));
			for (const r of t.rows)
				lines.push(r.map(csvField).join(','));
		} else {
			for (const r of t.rows)
				lines.push(JSON.stringify(r.map(jsonValue)));
		}
	} else if (cmd === 'schema') {
		const t = await read(file, false);
		t.names.forEach((n, i) => lines.push(`${n}\t${t.types[i]}`));
	} else if (cmd === 'meta' && reader === 'hyparquet') {
		const { meta } = await readHyparquet(file, false);
		lines.push(`rows\t${meta.num_rows}`);
		lines.push(`row_groups\t${meta.row_groups.length}`);
		for (const [i, g] of meta.row_groups.entries())
			lines.push(`row_group\t${i}\t${g.num_rows}\t` +
				g.columns.map((c) => c.meta_data.codec).join(','));
		lines.push(`created_by\t${meta.created_by}`);
	} else {
		usage();
	}
	lines.push('');
	process.stdout.write(lines.join('\n'));
}

main().catch((e) => {
	process.stderr.write(`read.mjs: ${e.stack || e}\n`);
	process.exit(1);
});
