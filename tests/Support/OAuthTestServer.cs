// A small OAuth 2.0 authorization server for the tests, on loopback only: token endpoint (client credentials with a
// client secret or a certificate assertion, device code, refresh token, Google's JWT bearer grant), OIDC metadata, and
// RFC 7662 token introspection for Dovecot's oauth2 passdb. Tokens are random and short-lived; clients and refresh
// tokens can be revoked. HTTPS with its own certificate (the tests pin it); introspection over plain HTTP for Dovecot.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdminTests
{
    public sealed class OAuthTestServer : IDisposable
    {
        sealed class Issued { public string User; public string Client; public DateTimeOffset Expires; public string Kind; }

        readonly X509Certificate2 _tls;
        readonly TcpListener _https, _http;
        readonly CancellationTokenSource _stop = new CancellationTokenSource();
        readonly ConcurrentDictionary<string, Issued> _tokens = new ConcurrentDictionary<string, Issued>();
        readonly ConcurrentDictionary<string, Issued> _refresh = new ConcurrentDictionary<string, Issued>();
        readonly ConcurrentDictionary<string, Issued> _deviceCodes = new ConcurrentDictionary<string, Issued>();
        readonly ConcurrentDictionary<string, string> _secrets = new ConcurrentDictionary<string, string>();
        readonly ConcurrentDictionary<string, RSA> _keys = new ConcurrentDictionary<string, RSA>();
        readonly ConcurrentDictionary<string, string> _clientUsers = new ConcurrentDictionary<string, string>();
        readonly ConcurrentDictionary<string, bool> _revoked = new ConcurrentDictionary<string, bool>();
        readonly ConcurrentQueue<string> _log = new ConcurrentQueue<string>();

        public OAuthTestServer(X509Certificate2 tlsCertificate, int tokenLifetimeSeconds)
        {
            _tls = tlsCertificate;
            TokenLifetimeSeconds = tokenLifetimeSeconds;
            _https = new TcpListener(IPAddress.Loopback, 0);
            _http = new TcpListener(IPAddress.Loopback, 0);
            _https.Start();
            _http.Start();
            Task.Run(() => Accept(_https, true));
            Task.Run(() => Accept(_http, false));
        }

        public int TokenLifetimeSeconds { get; set; }
        public int HttpsPort => ((IPEndPoint)_https.LocalEndpoint).Port;
        public int HttpPort => ((IPEndPoint)_http.LocalEndpoint).Port;
        public string Tenant => "tenant-1";
        public string Authority => $"https://127.0.0.1:{HttpsPort}/{Tenant}";
        public string TokenUrl => $"https://127.0.0.1:{HttpsPort}/{Tenant}/oauth2/v2.0/token";
        public string IntrospectionUrl => $"http://127.0.0.1:{HttpPort}/introspect";
        public string[] Log => _log.ToArray();
        /// <summary>Every access token and refresh token ever issued, revoked ones too (for the secret scans).</summary>
        public string[] IssuedTokens => _allTokens.ToArray();
        public string[] IssuedRefreshTokens => _allRefresh.ToArray();
        readonly ConcurrentQueue<string> _allTokens = new ConcurrentQueue<string>();
        readonly ConcurrentQueue<string> _allRefresh = new ConcurrentQueue<string>();
        public int Count(string kind) => _log.Count(l => l.StartsWith("issued " + kind + " ", StringComparison.Ordinal));
        public int Introspections => _log.Count(l => l.StartsWith("introspect ", StringComparison.Ordinal));

        /// <summary>A client (app) with a secret, acting for <paramref name="user"/> (the mailbox its app-only tokens are for).</summary>
        public void AddSecretClient(string clientId, string secret, string user) { _secrets[clientId] = secret; _clientUsers[clientId] = user; }
        /// <summary>A client with a certificate (MSAL) or a key (Google service account, keyed by its e-mail).</summary>
        public void AddKeyClient(string clientId, RSA publicKey, string user) { _keys[clientId] = publicKey; _clientUsers[clientId] = user; }
        /// <summary>Revokes a client: its tokens and refresh tokens stop working and it gets no new ones.</summary>
        public void Revoke(string clientId)
        {
            _revoked[clientId] = true;
            foreach (var t in _tokens.Where(t => t.Value.Client == clientId).ToList()) _tokens.TryRemove(t.Key, out _);
            foreach (var t in _refresh.Where(t => t.Value.Client == clientId).ToList()) _refresh.TryRemove(t.Key, out _);
        }
        /// <summary>A token issued outside any grant (what an external token command would print).</summary>
        public string IssueDirect(string clientId, string user, int lifetimeSeconds)
        {
            var token = "at-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            _tokens[token] = new Issued { Client = clientId, User = user, Expires = DateTimeOffset.UtcNow.AddSeconds(lifetimeSeconds), Kind = "direct" };
            _allTokens.Enqueue(token);
            return token;
        }
        public void Restore(string clientId) => _revoked.TryRemove(clientId, out _);
        /// <summary>Revokes every refresh token (a user's sessions revoked), not the client.</summary>
        public void RevokeRefreshTokens() { foreach (var k in _refresh.Keys.ToList()) _refresh.TryRemove(k, out _); foreach (var t in _tokens.Where(t => t.Value.Kind == "device_code" || t.Value.Kind == "refresh_token").ToList()) _tokens.TryRemove(t.Key, out _); }

        async Task Accept(TcpListener listener, bool tls)
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await listener.AcceptTcpClientAsync(); } catch { return; }
                _ = Task.Run(() => Serve(client, tls));
            }
        }

        async Task Serve(TcpClient client, bool tls)
        {
            using (client)
            {
                try
                {
                    Stream stream = client.GetStream();
                    if (tls)
                    {
                        var ssl = new SslStream(stream, false);
                        await ssl.AuthenticateAsServerAsync(_tls, false, System.Security.Authentication.SslProtocols.None, false);
                        stream = ssl;
                    }
                    using (stream)
                    {
                        while (true)
                        {
                            var request = await ReadRequest(stream);
                            if (request == null) return;
                            var (status, body) = Handle(request.Value.method, request.Value.path, request.Value.body, tls);
                            var bytes = Encoding.UTF8.GetBytes(body);
                            var head = $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Error")}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nCache-Control: no-store\r\n\r\n";
                            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                            await stream.WriteAsync(bytes);
                            await stream.FlushAsync();
                        }
                    }
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is System.Security.Authentication.AuthenticationException || e is ObjectDisposedException) { }
            }
        }

        static async Task<(string method, string path, string body)?> ReadRequest(Stream stream)
        {
            var header = new List<byte>();
            var one = new byte[1];
            while (true)
            {
                if (await stream.ReadAsync(one, 0, 1) == 0) return null;
                header.Add(one[0]);
                var n = header.Count;
                if (n >= 4 && header[n - 4] == '\r' && header[n - 3] == '\n' && header[n - 2] == '\r' && header[n - 1] == '\n') break;
                if (n > 65536) return null;
            }
            var lines = Encoding.ASCII.GetString(header.ToArray()).Split("\r\n");
            var first = lines[0].Split(' ');
            var length = 0;
            foreach (var line in lines.Skip(1))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line.Substring(15).Trim());
            var body = new byte[length];
            var read = 0;
            while (read < length)
            {
                var r = await stream.ReadAsync(body, read, length - read);
                if (r == 0) return null;
                read += r;
            }
            return (first[0], first[1], Encoding.UTF8.GetString(body));
        }

        static Dictionary<string, string> Form(string body) => body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");

        static string Json(object value) => JsonSerializer.Serialize(value);
        static (int, string) OAuthError(string error, string description) => (400, Json(new Dictionary<string, object> { ["error"] = error, ["error_description"] = description, ["error_codes"] = new[] { 70000 } }));

        (int, string) Handle(string method, string path, string body, bool tls)
        {
            path = path.Split('?')[0];
            if (!tls && method == "POST" && path == "/introspect")
            {
                var token = Form(body).GetValueOrDefault("token") ?? "";
                var active = _tokens.TryGetValue(token, out var t) && t.Expires > DateTimeOffset.UtcNow && !_revoked.ContainsKey(t.Client);
                _log.Enqueue($"introspect {(active ? "active" : "inactive")}");
                return active ? (200, Json(new Dictionary<string, object> { ["active"] = true, ["username"] = t.User, ["client_id"] = t.Client, ["exp"] = t.Expires.ToUnixTimeSeconds() }))
                              : (200, Json(new Dictionary<string, object> { ["active"] = false }));
            }
            if (!tls) return (404, "{}");
            var prefix = "/" + Tenant;
            if (method == "GET" && (path == prefix + "/v2.0/.well-known/openid-configuration" || path == prefix + "/.well-known/openid-configuration"))
                return (200, Json(new Dictionary<string, object>
                {
                    ["issuer"] = Authority,
                    ["token_endpoint"] = TokenUrl,
                    ["authorization_endpoint"] = $"https://127.0.0.1:{HttpsPort}/{Tenant}/oauth2/v2.0/authorize",
                    ["device_authorization_endpoint"] = $"https://127.0.0.1:{HttpsPort}/{Tenant}/oauth2/v2.0/devicecode",
                    ["jwks_uri"] = $"https://127.0.0.1:{HttpsPort}/{Tenant}/discovery/v2.0/keys",
                    ["response_types_supported"] = new[] { "code" },
                    ["subject_types_supported"] = new[] { "pairwise" },
                    ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                }));
            if (method == "POST" && path == prefix + "/oauth2/v2.0/devicecode")
            {
                var form = Form(body);
                var client = form.GetValueOrDefault("client_id");
                if (client == null || !_clientUsers.ContainsKey(client)) return OAuthError("unauthorized_client", "unknown client");
                var code = Guid.NewGuid().ToString("N");
                _deviceCodes[code] = new Issued { Client = client, User = _clientUsers[client], Expires = DateTimeOffset.UtcNow.AddMinutes(5) };
                _log.Enqueue("devicecode " + client);
                return (200, Json(new Dictionary<string, object>
                {
                    ["device_code"] = code, ["user_code"] = "TEST-" + code.Substring(0, 6).ToUpperInvariant(),
                    ["verification_uri"] = $"https://127.0.0.1:{HttpsPort}/device", ["expires_in"] = 300, ["interval"] = 1,
                    ["message"] = "To sign in, open https://127.0.0.1/device and enter the code TEST-" + code.Substring(0, 6).ToUpperInvariant() + ".",
                }));
            }
            if (method == "POST" && path == prefix + "/oauth2/v2.0/token")
                return Token(Form(body));
            return (404, Json(new Dictionary<string, object> { ["error"] = "not_found" }));
        }

        (int, string) Token(Dictionary<string, string> form)
        {
            var grant = form.GetValueOrDefault("grant_type");
            string client, user;
            switch (grant)
            {
                case "client_credentials":
                    client = form.GetValueOrDefault("client_id");
                    if (client == null || !_clientUsers.ContainsKey(client)) return OAuthError("invalid_client", "AADSTS700016: unknown client");
                    if (form.TryGetValue("client_secret", out var secret))
                    {
                        if (!_secrets.TryGetValue(client, out var expected) || expected != secret) return OAuthError("invalid_client", "AADSTS7000215: Invalid client secret provided.");
                    }
                    else if (!(form.TryGetValue("client_assertion", out var assertion) && _keys.TryGetValue(client, out var key) && VerifyJwt(assertion, key, client)))
                        return OAuthError("invalid_client", "AADSTS700027: Client assertion contains an invalid signature.");
                    if (_revoked.ContainsKey(client)) return OAuthError("unauthorized_client", "AADSTS7000112: Application is disabled.");
                    return Issue("client_credentials", client, _clientUsers[client], false);
                case "urn:ietf:params:oauth:grant-type:device_code":
                case "device_code": // what MSAL sends to Entra ID
                    client = form.GetValueOrDefault("client_id");
                    if (!_deviceCodes.TryRemove(form.GetValueOrDefault("device_code") ?? "", out var device)) return OAuthError("expired_token", "device code unknown or used");
                    if (_revoked.ContainsKey(device.Client)) return OAuthError("invalid_grant", "AADSTS50173: revoked");
                    return Issue("device_code", device.Client, device.User, true);
                case "refresh_token":
                    if (!_refresh.TryRemove(form.GetValueOrDefault("refresh_token") ?? "", out var previous) || _revoked.ContainsKey(previous.Client))
                        return OAuthError("invalid_grant", "AADSTS700082: The refresh token has expired or was revoked.");
                    return Issue("refresh_token", previous.Client, previous.User, true);
                case "urn:ietf:params:oauth:grant-type:jwt-bearer":
                    var jwt = form.GetValueOrDefault("assertion") ?? "";
                    var claims = Claims(jwt);
                    client = claims?.GetValueOrDefault("iss");
                    if (client == null || !_keys.TryGetValue(client, out var googleKey) || !VerifyJwt(jwt, googleKey, client)) return OAuthError("invalid_grant", "Invalid JWT Signature.");
                    if (_revoked.ContainsKey(client)) return OAuthError("unauthorized_client", "Client is unauthorized to retrieve access tokens using this method.");
                    user = claims.GetValueOrDefault("sub");
                    if (claims.GetValueOrDefault("scope") != "https://mail.google.com/") return OAuthError("invalid_scope", "scope");
                    return Issue("jwt_bearer", client, user, false);
                default:
                    return OAuthError("unsupported_grant_type", grant ?? "none");
            }
        }

        (int, string) Issue(string kind, string client, string user, bool withRefresh)
        {
            var token = "at-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            var expires = DateTimeOffset.UtcNow.AddSeconds(TokenLifetimeSeconds);
            _tokens[token] = new Issued { Client = client, User = user, Expires = expires, Kind = kind };
            _allTokens.Enqueue(token);
            _log.Enqueue($"issued {kind} {client} {user}");
            var response = new Dictionary<string, object> { ["token_type"] = "Bearer", ["access_token"] = token, ["expires_in"] = TokenLifetimeSeconds, ["ext_expires_in"] = TokenLifetimeSeconds, ["scope"] = "https://outlook.office365.com/IMAP.AccessAsUser.All" };
            if (withRefresh)
            {
                var refresh = "rt-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
                _allRefresh.Enqueue(refresh);
                _refresh[refresh] = new Issued { Client = client, User = user, Expires = DateTimeOffset.UtcNow.AddDays(1), Kind = kind };
                response["refresh_token"] = refresh;
                response["scope"] = "https://outlook.office365.com/IMAP.AccessAsUser.All openid profile offline_access";
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                response["id_token"] = B64(Json(new { alg = "none", typ = "JWT" })) + "." + B64(Json(new Dictionary<string, object>
                {
                    ["iss"] = Authority, ["aud"] = client, ["sub"] = "sub-" + user, ["oid"] = "oid-" + user, ["tid"] = Tenant,
                    ["preferred_username"] = user, ["name"] = user, ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600,
                })) + ".";
                response["client_info"] = B64(Json(new Dictionary<string, object> { ["uid"] = "oid-" + user, ["utid"] = Tenant }));
            }
            return (200, Json(response));
        }

        static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        static byte[] FromB64(string text) { text = text.Replace('-', '+').Replace('_', '/'); return Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=')); }

        static Dictionary<string, string> Claims(string jwt)
        {
            try
            {
                var parts = jwt.Split('.');
                using var doc = JsonDocument.Parse(FromB64(parts[1]));
                return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString());
            }
            catch (Exception) { return null; }
        }

        // RS256 or PS256, signed by the client's key, issued by the client (or, for MSAL, subject = client id), not expired.
        static bool VerifyJwt(string jwt, RSA key, string client)
        {
            var parts = jwt.Split('.');
            if (parts.Length != 3) return false;
            using var header = JsonDocument.Parse(FromB64(parts[0]));
            var alg = header.RootElement.GetProperty("alg").GetString();
            var padding = alg == "PS256" ? RSASignaturePadding.Pss : alg == "RS256" ? RSASignaturePadding.Pkcs1 : null;
            if (padding == null) return false;
            if (!key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromB64(parts[2]), HashAlgorithmName.SHA256, padding)) return false;
            var claims = Claims(jwt);
            return claims != null && claims.GetValueOrDefault("iss") == client
                && long.TryParse(claims.GetValueOrDefault("exp"), out var exp) && exp > DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _https.Stop();
            _http.Stop();
        }
    }
}
