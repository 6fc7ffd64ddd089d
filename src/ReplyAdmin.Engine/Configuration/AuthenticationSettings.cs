using System;
using System.Linq;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>How ReplyAdmin logs in to a server.</summary>
    public enum AuthenticationMethod
    {
        /// <summary>User name and password (the credential reference of the server entry).</summary>
        Password,
        /// <summary>An OAuth 2.0 access token, sent with SASL XOAUTH2 or OAUTHBEARER.</summary>
        OAuth2,
    }

    /// <summary>Where OAuth 2.0 access tokens come from.</summary>
    public enum OAuthTokenSource
    {
        /// <summary>Microsoft Entra ID, app-only (client credentials): a certificate or client secret of an app registration.</summary>
        MicrosoftClientCredentials,
        /// <summary>Microsoft Entra ID, delegated: one interactive device-code sign-in, then a refresh token in a cache file only the owner can read.</summary>
        MicrosoftDeviceCode,
        /// <summary>A Google Workspace service account with domain-wide delegation, acting as the mailbox user.</summary>
        GoogleServiceAccount,
        /// <summary>An external command that prints a token (for any other provider).</summary>
        Command,
    }

    /// <summary>The SASL mechanism that carries the token.</summary>
    public enum OAuthSaslMechanism
    {
        /// <summary>XOAUTH2 where the server offers it (Microsoft 365, Gmail), else OAUTHBEARER.</summary>
        Auto,
        /// <summary>XOAUTH2 (Google's and Microsoft's mechanism).</summary>
        XOAuth2,
        /// <summary>OAUTHBEARER (RFC 7628).</summary>
        OAuthBearer,
    }

    /// <summary>
    /// How a server entry (reply mailbox, IMAP source, SMTP relay) logs in. With <see cref="AuthenticationMethod.OAuth2"/>
    /// the entry's user name is the mailbox the token acts for; secrets are only named by credential references.
    /// </summary>
    public sealed class AuthenticationSettings
    {
        /// <summary>Password (default) or OAuth2.</summary>
        public AuthenticationMethod Method { get; set; } = AuthenticationMethod.Password;

        /// <summary>Where tokens come from (OAuth2 only).</summary>
        public OAuthTokenSource? TokenSource { get; set; }

        /// <summary>Microsoft: the directory (tenant) id or verified domain of the organisation.</summary>
        public string TenantId { get; set; }

        /// <summary>Microsoft: the application (client) id of the app registration.</summary>
        public string ClientId { get; set; }

        /// <summary>Microsoft app-only: reference to a PKCS#12 (.pfx) certificate with private key, preferred over a client secret.</summary>
        public string CertificateReference { get; set; }

        /// <summary>Microsoft app-only: reference to a client secret.</summary>
        public string ClientSecretReference { get; set; }

        /// <summary>Google: reference to the service account's JSON key.</summary>
        public string KeyReference { get; set; }

        /// <summary>Scopes to request; empty for the provider's default for the protocol.</summary>
        public string[] Scope { get; set; }

        /// <summary>
        /// Another authority: for Microsoft sources an Entra-style authority <c>https://host/tenant</c> (a national cloud),
        /// for Google a token URL; empty for the provider's own. Must be https.
        /// </summary>
        public string Authority { get; set; }

        /// <summary>SHA-256 thumbprint of a self-signed certificate of the authority to accept (like the servers' pins).</summary>
        public string AuthorityCertificateThumbprint { get; set; }

        /// <summary>Command (run by the system shell) that prints an access token, or JSON with access_token and expires_in.</summary>
        public string Command { get; set; }

        /// <summary>Microsoft device code: the file that keeps the refresh token (mode 0600).</summary>
        public string TokenCachePath { get; set; }

        /// <summary>SASL mechanism; Auto picks what the server offers.</summary>
        public OAuthSaslMechanism Mechanism { get; set; } = OAuthSaslMechanism.Auto;

        /// <summary>True when the entry logs in with OAuth2.</summary>
        public static bool UsesOAuth(AuthenticationSettings settings) => settings != null && settings.Method == AuthenticationMethod.OAuth2;

        /// <summary>Checks that an OAuth2 entry has what its token source needs.</summary>
        /// <param name="settings">The settings; null means password.</param>
        /// <param name="userName">The entry's user name (the mailbox the token acts for).</param>
        /// <param name="field">The configuration field, e.g. <c>replyMailbox.authentication</c>.</param>
        /// <exception cref="ConfigurationException">Something is missing or invalid.</exception>
        public static void Validate(AuthenticationSettings settings, string userName, string field)
        {
            if (settings == null) return;
            foreach (var (reference, name) in new[] { (settings.CertificateReference, "certificateReference"), (settings.ClientSecretReference, "clientSecretReference"), (settings.KeyReference, "keyReference") })
                if (reference != null) CredentialReference.Parse(reference, field + "." + name);
            if (settings.Method != AuthenticationMethod.OAuth2) return;
            if (string.IsNullOrEmpty(userName))
                throw new ConfigurationException(ErrorIds.OAuthUserNameMissing, field.Replace(".authentication", ".userName"),
                    "OAuth2 needs the mailbox's address as user name: the token is presented for it.", field, "Give the mailbox address with -UserName.");
            if (settings.TokenSource == null)
                throw new ConfigurationException(ErrorIds.OAuthTokenSourceMissing, field + ".tokenSource", "OAuth2 needs a token source.", field,
                    "Add -TokenSource MicrosoftClientCredentials, MicrosoftDeviceCode, GoogleServiceAccount or Command.");
            if (settings.Authority != null && !(Uri.TryCreate(settings.Authority, UriKind.Absolute, out var authority) && authority.Scheme == Uri.UriSchemeHttps))
                throw new ConfigurationException(ErrorIds.OAuthAuthorityInvalid, field + ".authority", $"'{settings.Authority}' is not an https URL.", settings.Authority,
                    "Give the authority (issuer or token URL) as an absolute https URL, or leave it empty for the provider's own.");
            if (settings.Scope != null && settings.Scope.Any(s => string.IsNullOrWhiteSpace(s) || s.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
                throw new ConfigurationException(ErrorIds.OAuthScopeInvalid, field + ".scope", "a scope is empty or contains spaces or control characters.", field,
                    "Give each scope as its own value, e.g. -Scope 'https://outlook.office365.com/.default'.");
            switch (settings.TokenSource.Value)
            {
                case OAuthTokenSource.MicrosoftClientCredentials:
                case OAuthTokenSource.MicrosoftDeviceCode:
                    if (string.IsNullOrWhiteSpace(settings.ClientId) || settings.ClientId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                        throw new ConfigurationException(ErrorIds.OAuthClientIdMissing, field + ".clientId", "a Microsoft token source needs the application (client) id of the app registration.",
                            field, "Give it with -ClientId (Entra admin center: App registrations, Overview, Application (client) ID).");
                    if (settings.Authority == null && (string.IsNullOrWhiteSpace(settings.TenantId) || settings.TenantId.Any(c => !(char.IsLetterOrDigit(c) || c == '-' || c == '.'))))
                        throw new ConfigurationException(ErrorIds.OAuthTenantIdMissing, field + ".tenantId", "a Microsoft token source needs the directory (tenant) id or domain.",
                            settings.TenantId, "Give it with -TenantId (Entra admin center: Overview, Tenant ID); 'common' does not work for app-only or device code sign-in to a shared mailbox.");
                    if (settings.TokenSource == OAuthTokenSource.MicrosoftClientCredentials)
                    {
                        if (settings.CertificateReference == null && settings.ClientSecretReference == null)
                            throw new ConfigurationException(ErrorIds.OAuthClientCredentialMissing, field + ".certificateReference", "app-only sign-in needs a certificate or a client secret.", field,
                                "Give -CertificateReference file:/path/app.pfx (preferred) or -ClientSecretReference env:NAME, file:/path or secret:Name.");
                        if (settings.CertificateReference != null && settings.ClientSecretReference != null)
                            throw new ConfigurationException(ErrorIds.OAuthClientCredentialAmbiguous, field + ".clientSecretReference", "both a certificate and a client secret are configured.", field,
                                "Keep one: remove the other with an empty value (-ClientSecretReference '').");
                    }
                    else if (string.IsNullOrWhiteSpace(settings.TokenCachePath))
                        throw new ConfigurationException(ErrorIds.OAuthTokenCacheMissing, field + ".tokenCachePath", "device-code sign-in needs a token cache file.", field,
                            "Give -TokenCachePath (a file only the account running ReplyAdmin can read).");
                    break;
                case OAuthTokenSource.GoogleServiceAccount:
                    if (settings.KeyReference == null)
                        throw new ConfigurationException(ErrorIds.OAuthKeyReferenceMissing, field + ".keyReference", "a Google service account needs its JSON key.", field,
                            "Give -KeyReference file:/path/key.json (mode 600), env:NAME or secret:Name.");
                    break;
                case OAuthTokenSource.Command:
                    if (string.IsNullOrWhiteSpace(settings.Command) || settings.Command.Any(c => c == '\r' || c == '\n' || c == '\0'))
                        throw new ConfigurationException(ErrorIds.OAuthCommandMissing, field + ".command", "the Command token source needs a one-line command that prints a token.", field,
                            "Give -TokenCommand, e.g. '/usr/local/bin/get-token --mailbox shared@example.org'.");
                    break;
            }
            if (ConfigurationValidator.NormalizeThumbprint(settings.AuthorityCertificateThumbprint) is string pin && !(pin.Length == 40 || pin.Length == 64) )
                throw new ConfigurationException(ErrorIds.CertificateThumbprintInvalid, field + ".authorityCertificateThumbprint", "the thumbprint is not 40 or 64 hexadecimal digits.",
                    settings.AuthorityCertificateThumbprint, "Copy the SHA-256 thumbprint of the authority's certificate.");
        }
    }
}
