using System;
using System.Net.Http;
using Microsoft.Identity.Client;
using ReplyAdmin.Engine.Imap;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>
    /// The one HTTP client of a token source: the system's trusted roots, or a certificate of the authority pinned by its
    /// thumbprint (as the IMAP and SMTP servers' are), nothing else. Handed to MSAL and to Google's library.
    /// </summary>
    internal sealed class TokenHttpClientFactory : Google.Apis.Http.HttpClientFactory, IMsalHttpClientFactory
    {
        private readonly string _pinnedThumbprint;
        private readonly TimeSpan _timeout;
        private readonly Lazy<HttpClient> _client;

        public TokenHttpClientFactory(string pinnedThumbprint, TimeSpan timeout)
        {
            _pinnedThumbprint = pinnedThumbprint;
            _timeout = timeout;
            _client = new Lazy<HttpClient>(() => new HttpClient(CreateTrustingHandler()) { Timeout = _timeout });
        }

        /// <summary>The certificate the authority presented last.</summary>
        public CertificateInfo Presented { get; private set; }

        HttpClient IMsalHttpClientFactory.GetHttpClient() => _client.Value;

        protected override HttpMessageHandler CreateHandler(Google.Apis.Http.CreateHttpClientArgs args) => CreateTrustingHandler();

        private HttpClientHandler CreateTrustingHandler()
        {
            // The same rule as for the mail servers: a trusted chain and name, or the pinned certificate; the presented
            // certificate is kept so that a refusal can name its thumbprint.
            return new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) =>
                {
                    var check = new CertificateCheck(_pinnedThumbprint);
                    var accepted = check.Validate(request, certificate, chain, errors);
                    Presented = check.Presented;
                    return accepted;
                },
            };
        }
    }
}
