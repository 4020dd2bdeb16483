// A Node.js client of the integrations service, as a service written in another language would
// write it: @grpc/grpc-js with @grpc/proto-loader loading protos/ at run time, no generated code.
//
//   node tests/node/client_test.mjs <host:port> <tenant_id> [googleapis_proto_dir]
//
// Checks create, get, another tenant's NOT_FOUND, list with pagination, an INVALID_ARGUMENT whose
// grpc-status-details-bin trailer decodes into google.rpc.Status + BadRequest, and, when
// protos/ defines IntegrationHealthService, the server-streaming CheckAllIntegrations against a
// provider stand-in on 127.0.0.1. Exits 0 when every check passes; prints what failed otherwise.
// tests/service/test_node_client.py runs it against a real server.
//
// With INTEGRATIONS_TOKEN set, every call carries `authorization: Bearer <token>` (needed when the
// server runs with a caller file).
//
// google/rpc/status.proto and error_details.proto come from the Python package
// googleapis-common-protos (a dependency of the service); by default they are looked up in the
// repository's .venv, or pass the folder that holds google/rpc/.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PROTOS = path.join(ROOT, "protos");
const DEADLINE_MS = 10_000;
// The environment variable the server resolves the stand-in provider's key from (env:// ref).
const PROVIDER_KEY_ENV = "DEV_NODE_CLIENT_TEST_PROVIDER_KEY";

function protoFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(full, base);
    return entry.name.endsWith(".proto") ? [path.relative(base, full)] : [];
  });
}

function defaultGoogleapisDir() {
  const lib = path.join(ROOT, ".venv", "lib");
  if (!existsSync(lib)) return null;
  for (const python of readdirSync(lib)) {
    const candidate = path.join(lib, python, "site-packages");
    if (existsSync(path.join(candidate, "google", "rpc", "status.proto"))) return candidate;
  }
  return null;
}

// google.rpc.Status and its detail messages, decoded with protobufjs (no google-protobuf).
function loadRichErrorTypes(googleapisDir) {
  const root = new protobuf.Root();
  // Imports such as google/protobuf/duration.proto fall through to protobufjs's bundled copies.
  root.resolvePath = (origin, target) => {
    const local = path.join(googleapisDir, target);
    return existsSync(local) ? local : target;
  };
  root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });
  return root;
}

function decodeStatusDetails(error, richTypes) {
  const [raw] = error.metadata.get("grpc-status-details-bin");
  assert.ok(Buffer.isBuffer(raw), "the error has no grpc-status-details-bin trailer");
  const status = richTypes.lookupType("google.rpc.Status").decode(raw);
  const details = status.details.map((any) => {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    return { typeName, message: richTypes.lookupType(typeName).decode(any.value) };
  });
  return { code: status.code, message: status.message, details };
}

function callMetadata() {
  const metadata = new grpc.Metadata();
  const token = process.env.INTEGRATIONS_TOKEN;
  if (token) metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

function callOptions() {
  return { deadline: Date.now() + DEADLINE_MS };
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, callMetadata(), callOptions(), (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

async function expectError(promise, code) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.code, code, `expected ${grpc.status[code]}, got ${error.code}: ${error.details}`);
    return error;
  }
  assert.fail(`expected ${grpc.status[code]}, the call succeeded`);
}

function newIntegration(name, providerUrl) {
  return {
    name,
    provider_type: "PROVIDER_TYPE_OPENAI",
    credential_ref: `env://${PROVIDER_KEY_ENV}`,
    default_model: "gpt-4o-mini",
    rate_limit_rpm: 60,
    // google.protobuf.Struct keeps protobufjs's own field names (stringValue).
    config: { fields: { base_url: { stringValue: providerUrl } } },
  };
}

async function checkCreateAndGet(integrations, tenant, otherTenant, providerUrl) {
  const created = await unary(integrations, "CreateIntegration", {
    tenant_id: tenant,
    integration: newIntegration("node-first", providerUrl),
    request_id: "node-create-first",
  });
  assert.equal(created.tenant_id, tenant);
  assert.equal(created.status, "INTEGRATION_STATUS_CREATED");
  assert.equal(created.health_state, "HEALTH_STATE_UNKNOWN");
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assert.ok(created.etag, "a created integration carries an etag");

  const again = await unary(integrations, "CreateIntegration", {
    tenant_id: tenant,
    integration: newIntegration("node-first", providerUrl),
    request_id: "node-create-first",
  });
  assert.equal(again.id, created.id, "a repeated request_id returns the first result");

  const fetched = await unary(integrations, "GetIntegration", {
    tenant_id: tenant,
    integration_id: created.id,
  });
  assert.equal(fetched.name, "node-first");
  assert.equal(fetched.config.fields.base_url.stringValue, providerUrl);
  assert.equal(fetched.rate_limit_rpm, 60);

  const missing = await expectError(
    unary(integrations, "GetIntegration", { tenant_id: tenant, integration_id: randomUUID() }),
    grpc.status.NOT_FOUND,
  );
  const foreign = await expectError(
    unary(integrations, "GetIntegration", { tenant_id: otherTenant, integration_id: created.id }),
    grpc.status.NOT_FOUND,
  );
  assert.equal(
    foreign.details.replace(created.id, "<id>"),
    missing.details.replace(/[0-9a-f-]{36}/, "<id>"),
    "another tenant's integration reads exactly like a missing one",
  );
  console.log(`ok create, idempotent create, get, NOT_FOUND for another tenant (${created.id})`);
  return created;
}

async function checkPagination(integrations, tenant, first, providerUrl) {
  const ids = [first.id];
  for (const name of ["node-second", "node-third"]) {
    const created = await unary(integrations, "CreateIntegration", {
      tenant_id: tenant,
      integration: newIntegration(name, providerUrl),
    });
    ids.push(created.id);
  }
  const pages = [];
  let token = "";
  do {
    const page = await unary(integrations, "ListIntegrations", {
      tenant_id: tenant,
      page_size: 2,
      page_token: token,
    });
    assert.equal(page.total_size, 3);
    pages.push(page.integrations.map((integration) => integration.id));
    token = page.next_page_token;
    assert.ok(pages.length <= 3, "pagination does not end");
  } while (token);
  assert.deepEqual(pages.map((page) => page.length), [2, 1]);
  assert.deepEqual(pages.flat(), ids, "pages list every integration once, in creation order");
  console.log("ok list: 3 integrations in pages of 2 and 1 following next_page_token");
  return ids;
}

async function checkRichError(integrations, tenant, richTypes) {
  const rawKey = `sk-node-${randomUUID()}`;
  const error = await expectError(
    unary(integrations, "CreateIntegration", {
      tenant_id: tenant,
      integration: { ...newIntegration("node-raw-key", "http://127.0.0.1:9"), credential_ref: rawKey },
    }),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.ok(!error.details.includes(rawKey), "the status message echoes the raw key");
  const status = decodeStatusDetails(error, richTypes);
  assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
  const badRequest = status.details.find((detail) => detail.typeName === "google.rpc.BadRequest");
  assert.ok(badRequest, `no google.rpc.BadRequest among ${status.details.map((d) => d.typeName)}`);
  const fields = badRequest.message.field_violations.map((violation) => violation.field);
  assert.deepEqual(fields, ["integration.credential_ref"]);
  assert.ok(!JSON.stringify(status).includes(rawKey), "the error details echo the raw key");
  console.log(`ok INVALID_ARGUMENT decoded from grpc-status-details-bin: BadRequest ${fields}`);
}

async function checkAllIntegrationsStream(health, integrations, tenant, ids) {
  for (const id of ids) {
    await unary(integrations, "EnableIntegration", { tenant_id: tenant, integration_id: id });
  }
  const call = health.CheckAllIntegrations(
    // An explicit zero threshold: every enabled integration is due, whatever ran before.
    { tenant_id: tenant, stale_threshold: { seconds: 0, nanos: 0 }, max_concurrency: 2 },
    callMetadata(),
    callOptions(),
  );
  const results = [];
  for await (const result of call) results.push(result);
  assert.deepEqual(results.map((result) => result.integration_id).sort(), [...ids].sort());
  for (const result of results) {
    assert.ok(
      ["HEALTH_STATE_HEALTHY", "HEALTH_STATE_DEGRADED"].includes(result.health_state),
      `${result.integration_name}: ${result.health_state} ${result.message}`,
    );
  }
  console.log(`ok CheckAllIntegrations streamed ${results.length} results`);
}

// The provider the health probes reach: answers 200 to everything, on a loopback port.
async function startProviderStandIn() {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(200, { "content-type": "application/json" });
    response.end('{"object":"list","data":[]}');
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

async function main() {
  const [address, tenant, googleapisArg] = process.argv.slice(2);
  if (!address || !tenant) {
    console.error("usage: node client_test.mjs <host:port> <tenant_id> [googleapis_proto_dir]");
    return 2;
  }
  const googleapisDir = googleapisArg ?? defaultGoogleapisDir();
  if (!googleapisDir) {
    console.error("google/rpc/*.proto not found: pass the folder holding google/rpc/");
    return 2;
  }
  const definition = protoLoader.loadSync(protoFiles(PROTOS), {
    includeDirs: [PROTOS],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const v1 = grpc.loadPackageDefinition(definition).integrations.v1;
  const credentials = grpc.credentials.createInsecure();
  const integrations = new v1.IntegrationsService(address, credentials);
  const health = v1.IntegrationHealthService
    ? new v1.IntegrationHealthService(address, credentials)
    : null;
  const provider = await startProviderStandIn();
  try {
    const richTypes = loadRichErrorTypes(googleapisDir);
    const first = await checkCreateAndGet(integrations, tenant, randomUUID(), provider.url);
    const ids = await checkPagination(integrations, tenant, first, provider.url);
    await checkRichError(integrations, tenant, richTypes);
    if (health) {
      await checkAllIntegrationsStream(health, integrations, tenant, ids);
    } else {
      console.log("skipped CheckAllIntegrations: protos/ defines no IntegrationHealthService");
    }
  } finally {
    integrations.close();
    health?.close();
    provider.server.close();
  }
  console.log("node client: all checks passed");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`node client: FAILED: ${error.stack ?? error}`);
    process.exit(1);
  },
);
