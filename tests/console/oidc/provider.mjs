// A real OpenID Connect provider (panva/oidc-provider) on loopback, for the console's OIDC tests.
// Its development login form accepts any account name; the accounts below carry the "groups" claim
// the console maps to roles.  Configuration from the environment (set by the test).
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = {
  "ada.admin": { groups: ["bridge-admins"], preferred_username: "ada.admin" },
  "olivier.gent": { groups: ["staff", "gent-operators"], preferred_username: "olivier.gent" },
  "eve.unknown": { groups: ["staff"], preferred_username: "eve.unknown" },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ["sub"], profile: ["preferred_username", "groups"] },
  conformIdTokenClaims: false, // the scope's claims in the ID token too (the console reads only it)
  cookies: { keys: ["console-test-only-cookie-key"] },
  async findAccount(ctx, id) {
    const claims = accounts[id] || { groups: [], preferred_username: id };
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => console.log(`listening ${issuer}`));
