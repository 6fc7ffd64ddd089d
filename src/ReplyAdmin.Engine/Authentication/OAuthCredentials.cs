using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>
    /// Builds the <see cref="OAuthCredential"/> of a server entry. Token providers live as long as the process, keyed by
    /// the settings and (a hash of) the secret, so a -Watch run or an interactive session reuses tokens until they near expiry.
    /// </summary>
    public static class OAuthCredentials
    {
        /// <summary>Default scope of Microsoft app-only tokens for Exchange Online IMAP and SMTP.</summary>
        public const string MicrosoftAppScope = "https://outlook.office365.com/.default";
        /// <summary>Delegated scope for Exchange Online IMAP.</summary>
        public const string MicrosoftImapScope = "https://outlook.office365.com/IMAP.AccessAsUser.All";
        /// <summary>Delegated scope for Exchange Online SMTP AUTH.</summary>
        public const string MicrosoftSmtpScope = "https://outlook.office365.com/SMTP.Send";
        /// <summary>Gmail's scope for IMAP and SMTP.</summary>
        public const string GoogleMailScope = "https://mail.google.com/";

        // X509KeyStorageFlags.EphemeralKeySet (not in netstandard2.0): the private key is never written to a key store.
        private const X509KeyStorageFlags EphemeralKeySet = (X509KeyStorageFlags)32;

        private static readonly ConcurrentDictionary<string, TokenProvider> Providers = new ConcurrentDictionary<string, TokenProvider>(StringComparer.Ordinal);

        /// <summary>The credential of an entry that logs in with OAuth2.</summary>
        /// <param name="settings">The entry's authentication settings (Method OAuth2).</param>
        /// <param name="userName">The mailbox.</param>
        /// <param name="field">The settings' field, e.g. <c>replyMailbox.authentication</c>; <c>smtpRelay.*</c> selects SMTP scopes.</param>
        /// <param name="resolver">Resolves the secret references (call on the pipeline thread for <c>secret:</c>).</param>
        /// <param name="timeout">Time limit of a token request.</param>
        /// <exception cref="ReplyAdminException">The settings are incomplete or a secret cannot be read.</exception>
        public static OAuthCredential Create(AuthenticationSettings settings, string userName, string field, CredentialResolver resolver, TimeSpan timeout)
        {
            AuthenticationSettings.Validate(settings, userName, field);
            var smtp = field.StartsWith("smtpRelay", StringComparison.Ordinal);
            var source = settings.TokenSource.Value;
            var scopes = settings.Scope != null && settings.Scope.Length > 0 ? settings.Scope
                : source == OAuthTokenSource.GoogleServiceAccount ? new[] { GoogleMailScope }
                : source == OAuthTokenSource.MicrosoftDeviceCode ? new[] { smtp ? MicrosoftSmtpScope : MicrosoftImapScope }
                : new[] { MicrosoftAppScope };
            byte[] material = null;
            var reference = source == OAuthTokenSource.MicrosoftClientCredentials ? settings.CertificateReference ?? settings.ClientSecretReference
                : source == OAuthTokenSource.GoogleServiceAccount ? settings.KeyReference : null;
            var referenceField = field + (settings.CertificateReference != null && source == OAuthTokenSource.MicrosoftClientCredentials ? ".certificateReference"
                : source == OAuthTokenSource.GoogleServiceAccount ? ".keyReference" : ".clientSecretReference");
            if (reference != null)
                material = resolver.ResolveMaterial(reference, referenceField,
                    source == OAuthTokenSource.GoogleServiceAccount ? "service account key" : settings.CertificateReference != null ? "certificate" : "client secret");

            var key = string.Join("\n", source, settings.TenantId, settings.ClientId, settings.Authority, settings.AuthorityCertificateThumbprint,
                settings.Command, settings.TokenCachePath, userName?.ToLowerInvariant(), string.Join(" ", scopes), Hash(material));
            TokenProvider provider;
            try
            {
                provider = Providers.GetOrAdd(key, _ => new TokenProvider(CreateSource(settings, userName, field, scopes, material, referenceField, timeout)));
            }
            catch (Microsoft.Identity.Client.MsalException e)
            {
                throw OAuthErrors.FromMsal(e, field, settings.TokenSource == OAuthTokenSource.MicrosoftDeviceCode, null);
            }
            return new OAuthCredential(userName, provider, settings.Mechanism, field);
        }

        /// <summary>The device-code source of an entry, for the interactive first sign-in.</summary>
        public static MicrosoftDeviceCodeSource DeviceCodeSource(AuthenticationSettings settings, string userName, string field, TimeSpan timeout)
        {
            AuthenticationSettings.Validate(settings, userName, field);
            if (settings.TokenSource != OAuthTokenSource.MicrosoftDeviceCode)
                throw new ReplyAdminException(ErrorIds.OAuthSignInNotNeeded, ReplyAdminErrorKind.InvalidArgument,
                    $"{field} does not use device-code sign-in (token source {settings.TokenSource}).", field,
                    "Only -TokenSource MicrosoftDeviceCode needs an interactive sign-in; test the others with Test-ReplyImapConnection.");
            var smtp = field.StartsWith("smtpRelay", StringComparison.Ordinal);
            var scopes = settings.Scope != null && settings.Scope.Length > 0 ? settings.Scope : new[] { smtp ? MicrosoftSmtpScope : MicrosoftImapScope };
            return new MicrosoftDeviceCodeSource(settings, userName, scopes, new TokenHttpClientFactory(settings.AuthorityCertificateThumbprint, timeout), field);
        }

        private static ITokenSource CreateSource(AuthenticationSettings settings, string userName, string field, string[] scopes, byte[] material, string referenceField, TimeSpan timeout)
        {
            var http = new TokenHttpClientFactory(ConfigurationValidator.NormalizeThumbprint(settings.AuthorityCertificateThumbprint), timeout);
            switch (settings.TokenSource.Value)
            {
                case OAuthTokenSource.MicrosoftClientCredentials:
                    return settings.CertificateReference != null
                        ? new MicrosoftClientCredentialsSource(settings, LoadCertificate(material, referenceField), null, scopes, http, field)
                        : new MicrosoftClientCredentialsSource(settings, null, Encoding.UTF8.GetString(material).Trim(), scopes, http, field);
                case OAuthTokenSource.MicrosoftDeviceCode:
                    return new MicrosoftDeviceCodeSource(settings, userName, scopes, http, field);
                case OAuthTokenSource.GoogleServiceAccount:
                    return new GoogleServiceAccountSource(settings, material, userName, scopes, http, field);
                default:
                    return new CommandTokenSource(settings.Command, userName, timeout, field);
            }
        }

        // A PKCS#12 file (binary), or its base64 text from an environment variable or a secret; without a password,
        // because the reference itself is what protects it.
        private static X509Certificate2 LoadCertificate(byte[] material, string field)
        {
            var bytes = material;
            var text = Encoding.ASCII.GetString(material).Trim();
            if (text.Length > 0 && text.All(c => char.IsLetterOrDigit(c) || c == '+' || c == '/' || c == '=' || char.IsWhiteSpace(c)))
            {
                try { bytes = Convert.FromBase64String(text); } catch (FormatException) { }
            }
            X509Certificate2 certificate;
            try
            {
                certificate = new X509Certificate2(bytes, (string)null, EphemeralKeySet);
            }
            catch (CryptographicException)
            {
                try
                {
                    certificate = new X509Certificate2(bytes, string.Empty, EphemeralKeySet);
                }
                catch (CryptographicException e)
                {
                    throw new ReplyAdminException(ErrorIds.OAuthCertificateInvalid, ReplyAdminErrorKind.InvalidData,
                        $"The certificate named by {field} cannot be read as a PKCS#12 (.pfx) file without password: {e.Message}", field,
                        "Export certificate and private key without a password (openssl pkcs12 -export -passout pass: ...) and protect the file with chmod 600.");
                }
            }
            if (!certificate.HasPrivateKey)
                throw new ReplyAdminException(ErrorIds.OAuthCertificateInvalid, ReplyAdminErrorKind.InvalidData,
                    $"The certificate named by {field} has no private key.", field, "Export the certificate together with its private key (.pfx).");
            return certificate;
        }

        private static string Hash(byte[] material)
        {
            if (material == null) return string.Empty;
            using (var sha = SHA256.Create())
                return Convert.ToBase64String(sha.ComputeHash(material));
        }
    }
}
