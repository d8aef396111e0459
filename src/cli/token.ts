// `sensorlake token create|list|revoke --tokens FILE`: manages the bearer tokens `sensorlake serve --tokens FILE`
// accepts. create prints the secret once, alone on its last line; the file keeps only its SHA-256.

import { Command } from 'commander';
import { createToken, parseScopes, readTokenFile, revokeToken, SCOPES } from '../ingest/http/tokens.js';
import { out, printTable } from './output.js';

export function tokenCommand(): Command {
  const cmd = new Command('token').description('manage the API tokens of sensorlake serve (stored hashed in a JSON file)');

  cmd
    .command('create')
    .description('add a token and print its secret (shown only this once, on the last line)')
    .requiredOption('--tokens <file>', 'token file (created if missing)')
    .requiredOption('--name <name>', 'a name for the token (client or purpose), unique in the file')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`)
    .option('--json', 'print { name, scopes, created, secret } as one JSON line')
    .addHelpText('after', '\nScopes: ingest (POST /v1/readings), read (GET routes, /metrics, /readyz, /openapi.json), admin (POST /v1/schemas).\nExit codes: 0 ok, 2 bad usage (unknown scope, name taken).')
    .action((o: { tokens: string; name: string; scopes: string; json?: boolean }) => {
      const { secret, entry } = createToken(o.tokens, o.name, parseScopes(o.scopes));
      if (o.json) return out(JSON.stringify({ name: entry.name, scopes: entry.scopes, created: entry.created, secret }));
      out(`created token '${entry.name}' with scopes ${entry.scopes.join(', ')} in ${o.tokens}`);
      out('its secret follows; it is shown only now (the file keeps a hash), so store it safely:');
      out(secret);
    });

  cmd
    .command('list')
    .description('list the tokens (names, scopes, creation times; never secrets)')
    .requiredOption('--tokens <file>', 'token file')
    .option('--json', 'print the list as one JSON array')
    .action((o: { tokens: string; json?: boolean }) => {
      const tokens = readTokenFile(o.tokens);
      if (o.json) return out(JSON.stringify(tokens.map((t) => ({ name: t.name, scopes: t.scopes, created: t.created }))));
      if (tokens.length === 0) return out(`no tokens in ${o.tokens}`);
      printTable(tokens.map((t) => ({ name: t.name, scopes: t.scopes.join(','), created: t.created })));
    });

  cmd
    .command('revoke')
    .description('remove a token; a running server refuses it from its next request on')
    .requiredOption('--tokens <file>', 'token file')
    .requiredOption('--name <name>', 'the token to remove')
    .option('--json', 'print { revoked } as JSON')
    .addHelpText('after', '\nExit codes: 0 ok, 1 no such token.')
    .action((o: { tokens: string; name: string; json?: boolean }) => {
      const entry = revokeToken(o.tokens, o.name);
      out(o.json ? JSON.stringify({ revoked: entry.name }) : `revoked token '${entry.name}' in ${o.tokens}`);
    });

  return cmd;
}
