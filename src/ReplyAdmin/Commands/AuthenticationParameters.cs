using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// The Set-* cmdlets of a server entry (reply mailbox, source, SMTP relay): their -Authentication and token-source
    /// parameters go to the entry's <see cref="AuthenticationSettings"/>. Secrets are only ever named by references.
    /// </summary>
    public abstract class SetServerSettingsCmdlet<TSettings> : SetSettingsCmdlet<TSettings> where TSettings : class, new()
    {
        private static readonly string[] OAuthParameters =
        {
            nameof(TokenSource), nameof(TenantId), nameof(ClientId), nameof(CertificateReference), nameof(ClientSecretReference), nameof(KeyReference),
            nameof(Scope), nameof(Authority), nameof(AuthorityCertificateThumbprint), nameof(TokenCommand), nameof(TokenCachePath), nameof(SaslMechanism),
        };

        /// <summary>Password (the credential reference) or OAuth2 (a token from -TokenSource).</summary>
        [Parameter]
        public AuthenticationMethod Authentication { get; set; }

        /// <summary>Where OAuth2 tokens come from.</summary>
        [Parameter]
        public OAuthTokenSource TokenSource { get; set; }

        /// <summary>Microsoft: directory (tenant) id or domain.</summary>
        [Parameter]
        [AllowEmptyString]
        public string TenantId { get; set; }

        /// <summary>Microsoft: application (client) id.</summary>
        [Parameter]
        [AllowEmptyString]
        public string ClientId { get; set; }

        /// <summary>Microsoft app-only: reference to a .pfx certificate with private key (env:, file:, secret:).</summary>
        [Parameter]
        [AllowEmptyString]
        public string CertificateReference { get; set; }

        /// <summary>Microsoft app-only: reference to a client secret (env:, file:, secret:).</summary>
        [Parameter]
        [AllowEmptyString]
        public string ClientSecretReference { get; set; }

        /// <summary>Google: reference to the service account's JSON key (env:, file:, secret:).</summary>
        [Parameter]
        [AllowEmptyString]
        public string KeyReference { get; set; }

        /// <summary>Scopes to request instead of the provider's default.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[] Scope { get; set; }

        /// <summary>Another authority: an OpenID Connect issuer (Microsoft sources) or token URL (Google); https.</summary>
        [Parameter]
        [AllowEmptyString]
        public string Authority { get; set; }

        /// <summary>SHA-256 thumbprint of the authority's self-signed certificate to accept.</summary>
        [Parameter]
        [AllowEmptyString]
        public string AuthorityCertificateThumbprint { get; set; }

        /// <summary>Command token source: the command that prints a token.</summary>
        [Parameter]
        [AllowEmptyString]
        public string TokenCommand { get; set; }

        /// <summary>Microsoft device code: the token cache file (default: beside the configuration file).</summary>
        [Parameter]
        [AllowEmptyString]
        public string TokenCachePath { get; set; }

        /// <summary>Auto, XOAuth2 or OAuthBearer.</summary>
        [Parameter]
        public OAuthSaslMechanism SaslMechanism { get; set; }

        /// <summary>The entry's field name in the configuration, e.g. <c>replyMailbox</c>.</summary>
        protected abstract string FieldName { get; }

        private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

        /// <inheritdoc />
        protected override IEnumerable<string> OtherChanges() =>
            new[] { nameof(Authentication) }.Concat(OAuthParameters).Where(Bound);

        /// <inheritdoc />
        protected override void ApplyOtherChanges(TSettings section)
        {
            if (!OtherChanges().Any()) return;
            var property = typeof(TSettings).GetProperty("Authentication");
            var settings = (AuthenticationSettings)property.GetValue(section) ?? new AuthenticationSettings();
            if (Bound(nameof(Authentication))) settings.Method = Authentication;
            if (Bound(nameof(TokenSource))) settings.TokenSource = TokenSource;
            if (Bound(nameof(TenantId))) settings.TenantId = Empty(TenantId);
            if (Bound(nameof(ClientId))) settings.ClientId = Empty(ClientId);
            if (Bound(nameof(CertificateReference))) settings.CertificateReference = Empty(CertificateReference);
            if (Bound(nameof(ClientSecretReference))) settings.ClientSecretReference = Empty(ClientSecretReference);
            if (Bound(nameof(KeyReference))) settings.KeyReference = Empty(KeyReference);
            if (Bound(nameof(Scope))) settings.Scope = Scope == null || Scope.Length == 0 ? null : Scope;
            if (Bound(nameof(Authority))) settings.Authority = Empty(Authority);
            if (Bound(nameof(AuthorityCertificateThumbprint)))
                settings.AuthorityCertificateThumbprint = string.IsNullOrEmpty(AuthorityCertificateThumbprint) ? null
                    : ConfigurationValidator.NormalizeThumbprint(AuthorityCertificateThumbprint) ?? AuthorityCertificateThumbprint;
            if (Bound(nameof(TokenCommand))) settings.Command = Empty(TokenCommand);
            if (Bound(nameof(TokenCachePath))) settings.TokenCachePath = string.IsNullOrEmpty(TokenCachePath) ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(TokenCachePath);
            if (Bound(nameof(SaslMechanism))) settings.Mechanism = SaslMechanism;

            if (settings.Method != AuthenticationMethod.OAuth2 && OAuthParameters.Any(Bound))
                throw new ReplyAdminException(ErrorIds.OAuthSettingsWithoutOAuth2, ReplyAdminErrorKind.InvalidArgument,
                    $"Token-source parameters were given, but the {SectionName} logs in with a password.", FieldName + ".authentication",
                    "Add -Authentication OAuth2 to log in with a token, or leave the token-source parameters out.");
            // Device code keeps its refresh token in a file; by default beside the configuration file, one per entry.
            if (settings.Method == AuthenticationMethod.OAuth2 && settings.TokenSource == OAuthTokenSource.MicrosoftDeviceCode && settings.TokenCachePath == null)
                settings.TokenCachePath = Path.Combine(Path.GetDirectoryName(ResolvedConfigPath) ?? ".", "tokens", FieldName + ".msal.json");
            property.SetValue(section, settings.Method == AuthenticationMethod.Password && IsDefault(settings) ? null : settings);
        }

        private static string Empty(string value) => string.IsNullOrEmpty(value) ? null : value;

        private static bool IsDefault(AuthenticationSettings s) => s.TokenSource == null && s.TenantId == null && s.ClientId == null && s.CertificateReference == null
            && s.ClientSecretReference == null && s.KeyReference == null && s.Scope == null && s.Authority == null && s.AuthorityCertificateThumbprint == null
            && s.Command == null && s.TokenCachePath == null && s.Mechanism == OAuthSaslMechanism.Auto;
    }
}
