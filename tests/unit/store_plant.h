/**
 * \file
 * For the store's tests: write a domain record behind the store's back,
 * in the layout store/store_lmdb.c keeps (schema 2: the record under a
 * sequence number in "domains", the name in "domain_names" pointing at
 * it), to plant damage that a reader must survive. Header-only, static,
 * for the test executables that include it after <lmdb.h> and <cmocka.h>.
 */
#ifndef MXC_TEST_STORE_PLANT_H
#define MXC_TEST_STORE_PLANT_H

/* A sequence number (8 bytes, big-endian), read and written here rather
 * than with the store's own helpers, so that the tests check the layout. */
static inline uint64_t plant_seq_get(const void *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | ((const uint8_t *)p)[i];
	return v;
}

static inline void plant_seq_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Opens the store's environment in @p dir and begins a transaction on it
 * (@p flags: 0 or MDB_RDONLY, for both). */
static inline void plant_begin(const char *dir, unsigned flags, MDB_env **env, MDB_txn **txn)
{
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 8), 0);
	assert_int_equal(mdb_env_open(*env, dir, flags, 0644), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, flags, txn), 0);
}

/*
 * Puts @p val as the record of domain @p name in the store in @p dir: over
 * the record the index names, or after the last record with a new index
 * entry.
 */
static inline void plant_domain(const char *dir, const char *name, const void *val,
				size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi recs, names;
	MDB_cursor *cur;
	MDB_val k = { strlen(name), (void *)name }, v, seq;
	uint8_t key[8];

	plant_begin(dir, 0, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "domains", 0, &recs), 0);
	assert_int_equal(mdb_dbi_open(txn, "domain_names", 0, &names), 0);
	if (mdb_get(txn, names, &k, &seq) == 0) {
		assert_int_equal(seq.mv_size, 8);
		memcpy(key, seq.mv_data, 8);
	} else {
		uint64_t last = 0;

		assert_int_equal(mdb_cursor_open(txn, recs, &cur), 0);
		if (mdb_cursor_get(cur, &seq, &v, MDB_LAST) == 0)
			last = plant_seq_get(seq.mv_data);
		mdb_cursor_close(cur);
		plant_seq_put(key, last + 1);
		seq = (MDB_val){ 8, key };
		assert_int_equal(mdb_put(txn, names, &k, &seq, 0), 0);
	}
	seq = (MDB_val){ 8, key };
	v = (MDB_val){ vlen, (void *)val };
	assert_int_equal(mdb_put(txn, recs, &seq, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

#endif
