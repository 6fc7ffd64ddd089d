using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>A Google Workspace service account with domain-wide delegation, acting as the mailbox user (JWT bearer grant).</summary>
    internal sealed class GoogleServiceAccountSource : ITokenSource
    {
        private readonly ServiceAccountCredential _credential;
        private readonly string _field;
        private readonly TokenHttpClientFactory _http;

        public GoogleServiceAccountSource(AuthenticationSettings settings, byte[] key, string userName, string[] scopes, TokenHttpClientFactory http, string field)
        {
            _field = field;
            _http = http;
            JsonCredentialParameters parameters;
            try
            {
                parameters = Google.Apis.Json.NewtonsoftJsonSerializer.Instance.Deserialize<JsonCredentialParameters>(Encoding.UTF8.GetString(key));
            }
            catch (Exception e) when (e is Newtonsoft.Json.JsonException || e is ArgumentException)
            {
                throw KeyInvalid("it is not JSON");
            }
            if (parameters?.Type != JsonCredentialParameters.ServiceAccountCredentialType || string.IsNullOrEmpty(parameters.ClientEmail) || string.IsNullOrEmpty(parameters.PrivateKey))
                throw KeyInvalid("it is not a service account key (type service_account with client_email and private_key)");
            var initializer = new ServiceAccountCredential.Initializer(parameters.ClientEmail, settings.Authority ?? parameters.TokenUri ?? GoogleAuthConsts.OidcTokenUrl)
            {
                User = userName,
                Scopes = scopes,
                KeyId = parameters.PrivateKeyId,
                HttpClientFactory = http,
            };
            try
            {
                _credential = new ServiceAccountCredential(initializer.FromPrivateKey(parameters.PrivateKey));
            }
            catch (Exception e) when (e is ArgumentException || e is FormatException || e is System.Security.Cryptography.CryptographicException)
            {
                throw KeyInvalid("its private key cannot be read");
            }
            Description = $"Google service account {parameters.ClientEmail} acting as {userName}";
        }

        public string Description { get; }

        public async Task<AccessToken> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            try
            {
                // Always a new request: TokenProvider decides when a cached token is still good.
                await _credential.RequestAccessTokenAsync(cancellationToken).ConfigureAwait(false);
                var token = _credential.Token;
                var expires = token.ExpiresInSeconds.HasValue ? new DateTimeOffset(token.IssuedUtc, TimeSpan.Zero).AddSeconds(token.ExpiresInSeconds.Value) : (DateTimeOffset?)null;
                return new AccessToken(token.AccessToken, expires);
            }
            catch (TokenResponseException e)
            {
                throw OAuthErrors.FromGoogle(e, _field);
            }
            catch (Exception e) when (OAuthErrors.IsNetwork(e, cancellationToken))
            {
                throw OAuthErrors.Unavailable(_field, "the token endpoint", e, null, _http);
            }
        }

        private ReplyAdminException KeyInvalid(string why) => new ReplyAdminException(ErrorIds.OAuthKeyInvalid, ReplyAdminErrorKind.InvalidData,
            $"The key named by {_field}.keyReference cannot be used: {why}.", _field + ".keyReference",
            "Create a JSON key for the service account (Google Cloud console: IAM, Service accounts, Keys) and point the reference at it.");
    }
}
