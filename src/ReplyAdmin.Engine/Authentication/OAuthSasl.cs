using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Security;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>Logs an IMAP or SMTP client in with a token: SASL XOAUTH2 or OAUTHBEARER, retried once with a new token.</summary>
    public static class OAuthSasl
    {
        /// <summary>
        /// Authenticates <paramref name="client"/>. When the server refuses the token (AUTHENTICATIONFAILED, 535), a new
        /// token is fetched (the old one may have been revoked or expired early) and the login is tried once more.
        /// </summary>
        /// <exception cref="AuthenticationException">The server refused the new token too.</exception>
        /// <exception cref="ReplyAdminException">No token could be had (<c>OAuth*</c> error ids).</exception>
        public static async Task AuthenticateAsync(IMailService client, OAuthCredential credential, string host, int port, CancellationToken cancellationToken)
        {
            var mechanism = Choose(client, credential.Mechanism);
            credential.LastMechanism = mechanism;
            var token = await credential.Tokens.GetTokenAsync(false, cancellationToken).ConfigureAwait(false);
            try
            {
                await client.AuthenticateAsync(Create(mechanism, credential.UserName, token, client, host, port), cancellationToken).ConfigureAwait(false);
            }
            catch (AuthenticationException)
            {
                token = await credential.Tokens.GetTokenAsync(true, cancellationToken).ConfigureAwait(false);
                await client.AuthenticateAsync(Create(mechanism, credential.UserName, token, client, host, port), cancellationToken).ConfigureAwait(false);
            }
        }

        internal static string Choose(IMailService client, OAuthSaslMechanism wanted)
        {
            switch (wanted)
            {
                case OAuthSaslMechanism.XOAuth2: return "XOAUTH2";
                case OAuthSaslMechanism.OAuthBearer: return "OAUTHBEARER";
            }
            var offered = client.AuthenticationMechanisms;
            if (offered.Contains("XOAUTH2")) return "XOAUTH2";
            if (offered.Contains("OAUTHBEARER")) return "OAUTHBEARER";
            return "XOAUTH2";
        }

        private static SaslMechanism Create(string mechanism, string userName, AccessToken token, IMailService client, string host, int port)
        {
            var credentials = new System.Net.NetworkCredential(userName, token.Value);
            if (mechanism == "OAUTHBEARER")
                return new SaslMechanismOAuthBearer(credentials); // MailKit gives it the server's host and port
            return new SaslMechanismOAuth2(credentials);
        }
    }
}
