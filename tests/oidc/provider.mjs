// A real OAuth2/OIDC provider for banyan-server's tests: the npm package oidc-provider on
// loopback, issuing client-credentials access tokens as signed JWTs (RFC 9068).
//
//   node provider.mjs [--port N] [--issuer URL] [--keys FILE] [--alg RS256|ES256]
//                     [--audience AUD]... [--tls-cert PEM --tls-key PEM]   (https)
//
// Prints "listening <issuer> port <port>" once it serves. --keys shares private keys between two
// providers (written there when the file does not exist yet). Clients (secret "secret"):
// "banyan-sync" and "stranger" (tokens live 10 minutes) and "short-lived" (1 second). Any --audience may
// be asked for with `resource`; the first is the default.
// POST /_test/rotate {"keep_old": false} replaces the signing key (the issuer and port
// stay), as an issuer's key rotation does.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import Provider from 'oidc-provider';

const args = { port: 0, issuer: '', keys: '', alg: 'ES256', audience: [], 'tls-cert': '', 'tls-key': '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  if (!(name in args)) throw new Error(`unknown option --${name}`);
  if (Array.isArray(args[name])) args[name].push(process.argv[i + 1]);
  else args[name] = process.argv[i + 1];
}
if (args.audience.length === 0) args.audience.push('https://banyan.test/api');

function newKey(alg) {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' };
}

let keys;
if (args.keys && existsSync(args.keys)) {
  keys = JSON.parse(readFileSync(args.keys, 'utf8'));
} else {
  keys = [newKey(args.alg)];
  if (args.keys) writeFileSync(args.keys, JSON.stringify(keys));
}

function makeProvider(issuer, signingKeys) {
  return new Provider(issuer, {
    clients: ['banyan-sync', 'short-lived', 'stranger'].map((id) => ({
      client_id: id,
      client_secret: 'secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: signingKeys[0].alg,
    })),
    jwks: { keys: signingKeys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => args.audience[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          if (!args.audience.includes(resource)) throw new Error(`unknown resource ${resource}`);
          return {
            scope: 'crm',
            audience: resource,
            accessTokenTTL: client.clientId === 'short-lived' ? 1 : 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signingKeys[0].alg } },
          };
        },
      },
    },
  });
}

let provider;
const tls = args['tls-cert'] !== '';
const handle = (req, res) => {
  if (req.method === 'POST' && req.url === '/_test/rotate') {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const keepOld = body ? JSON.parse(body).keep_old === true : false;
      keys = keepOld ? [newKey(keys[0].alg), ...keys] : [newKey(keys[0].alg)];
      provider = makeProvider(provider.issuer, keys);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid: keys[0].kid }));
    });
    return;
  }
  provider.callback()(req, res);
};
const server = tls
  ? https.createServer({ cert: readFileSync(args['tls-cert']), key: readFileSync(args['tls-key']) }, handle)
  : http.createServer(handle);
server.listen(Number(args.port), '127.0.0.1', () => {
  const issuer = args.issuer || `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
  provider = makeProvider(issuer, keys);
  console.log(`listening ${issuer} port ${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
