-- Keyring secrets sealed under a subkey of the master key (HKDF) and bound to their place (AAD).
-- Rows already stored are in the old format (1) until `npm run ops -- keys rewrap` moves them;
-- the default stays 1 so a process of the previous release, still running during the deploy,
-- stores rows that say truthfully how they are sealed.
ALTER TABLE "secret_versions" ADD COLUMN "cipher_format" INTEGER NOT NULL DEFAULT 1;
