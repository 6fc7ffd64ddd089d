using System;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Identity.Client;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>Microsoft Entra ID, app-only: MSAL's client-credentials grant with a certificate (preferred) or a client secret.</summary>
    internal sealed class MicrosoftClientCredentialsSource : ITokenSource
    {
        private readonly IConfidentialClientApplication _app;
        private readonly string[] _scopes;
        private readonly string _field;
        private readonly TokenHttpClientFactory _http;

        public MicrosoftClientCredentialsSource(AuthenticationSettings settings, X509Certificate2 certificate, string secret, string[] scopes,
            TokenHttpClientFactory http, string field)
        {
            var builder = ConfidentialClientApplicationBuilder.Create(settings.ClientId).WithHttpClientFactory(http);
            builder = settings.Authority != null ? builder.WithAuthority(settings.Authority, validateAuthority: false).WithInstanceDiscovery(false) : builder.WithAuthority(MicrosoftAuthority.Of(settings.TenantId));
            builder = certificate != null ? builder.WithCertificate(certificate, sendX5C: true) : builder.WithClientSecret(secret);
            _app = builder.Build();
            _scopes = scopes;
            _field = field;
            _http = http;
            Description = $"Microsoft app-only ({(certificate != null ? "certificate " + certificate.Thumbprint : "client secret")}), client {settings.ClientId}";
        }

        public string Description { get; }

        public async Task<AccessToken> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            try
            {
                var result = await _app.AcquireTokenForClient(_scopes).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken).ConfigureAwait(false);
                return new AccessToken(result.AccessToken, result.ExpiresOn);
            }
            catch (MsalException e)
            {
                throw OAuthErrors.FromMsal(e, _field, false, _http);
            }
            catch (Exception e) when (OAuthErrors.IsNetwork(e, cancellationToken))
            {
                throw OAuthErrors.Unavailable(_field, "the token endpoint", e, null, _http);
            }
        }
    }

    /// <summary>
    /// Microsoft Entra ID, delegated: one device-code sign-in (<see cref="SignInAsync"/>), after which MSAL's refresh token,
    /// kept in a file only the owner can read, gets new access tokens without anybody present.
    /// </summary>
    public sealed class MicrosoftDeviceCodeSource : ITokenSource
    {
        private readonly IPublicClientApplication _app;
        private readonly string[] _scopes;
        private readonly string _userName;
        private readonly string _field;
        private readonly string _cachePath;
        private readonly TokenHttpClientFactory _http;

        internal MicrosoftDeviceCodeSource(AuthenticationSettings settings, string userName, string[] scopes, TokenHttpClientFactory http, string field)
        {
            var builder = PublicClientApplicationBuilder.Create(settings.ClientId).WithHttpClientFactory(http);
            builder = settings.Authority != null ? builder.WithAuthority(settings.Authority, validateAuthority: false).WithInstanceDiscovery(false) : builder.WithAuthority(MicrosoftAuthority.Of(settings.TenantId));
            _app = builder.Build();
            _cachePath = settings.TokenCachePath;
            _app.UserTokenCache.SetBeforeAccess(args =>
            {
                var content = OwnerOnlyFile.Read(_cachePath, field);
                if (content != null) args.TokenCache.DeserializeMsalV3(content, shouldClearExistingCache: true);
            });
            _app.UserTokenCache.SetAfterAccess(args =>
            {
                if (args.HasStateChanged) OwnerOnlyFile.Write(_cachePath, args.TokenCache.SerializeMsalV3());
            });
            _scopes = scopes;
            _http = http;
            _userName = userName;
            _field = field;
            Description = $"Microsoft delegated (device code), client {settings.ClientId}, token cache {_cachePath}";
        }

        /// <inheritdoc />
        public string Description { get; }

        /// <inheritdoc />
        public async Task<AccessToken> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            try
            {
                var accounts = (await _app.GetAccountsAsync().ConfigureAwait(false)).ToList();
                var account = accounts.FirstOrDefault(a => string.Equals(a.Username, _userName, StringComparison.OrdinalIgnoreCase)) ?? accounts.FirstOrDefault();
                if (account == null)
                    throw new ReplyAdminException(ErrorIds.OAuthSignInRequired, ReplyAdminErrorKind.AuthenticationError,
                        $"Nobody has signed in for {_field} yet: the token cache '{_cachePath}' holds no account.", _field,
                        $"Sign in once as {_userName} with Connect-ReplyAccount (device code), as the account that runs ReplyAdmin.");
                var result = await _app.AcquireTokenSilent(_scopes, account).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken).ConfigureAwait(false);
                return new AccessToken(result.AccessToken, result.ExpiresOn);
            }
            catch (MsalException e)
            {
                throw OAuthErrors.FromMsal(e, _field, true, _http);
            }
            catch (Exception e) when (OAuthErrors.IsNetwork(e, cancellationToken))
            {
                throw OAuthErrors.Unavailable(_field, "the token endpoint", e, null, _http);
            }
        }

        /// <summary>Signs in interactively: <paramref name="show"/> gets the text that tells the user where to enter which code.</summary>
        /// <returns>The account that signed in and the token's expiry.</returns>
        public async Task<(string Account, DateTimeOffset ExpiresOn)> SignInAsync(Action<string> show, CancellationToken cancellationToken)
        {
            try
            {
                var result = await _app.AcquireTokenWithDeviceCode(_scopes, code =>
                {
                    show(code.Message);
                    return Task.CompletedTask;
                }).ExecuteAsync(cancellationToken).ConfigureAwait(false);
                return (result.Account?.Username, result.ExpiresOn);
            }
            catch (MsalException e)
            {
                throw OAuthErrors.FromMsal(e, _field, true, _http);
            }
            catch (Exception e) when (OAuthErrors.IsNetwork(e, cancellationToken))
            {
                throw OAuthErrors.Unavailable(_field, "the token endpoint", e, null, _http);
            }
        }
    }

    /// <summary>
    /// The Entra ID authority: <c>https://login.microsoftonline.com/{tenant}</c>, or a configured one of the same shape
    /// (<c>https://host/{tenant}</c>: a national cloud, or an authority of that shape in a test) whose host MSAL is not
    /// asked to discover: MSAL then talks to <c>{authority}/oauth2/v2.0/token</c> and <c>/devicecode</c> directly.
    /// </summary>
    internal static class MicrosoftAuthority
    {
        public static string Of(string tenantId) => "https://login.microsoftonline.com/" + tenantId;
    }
}
