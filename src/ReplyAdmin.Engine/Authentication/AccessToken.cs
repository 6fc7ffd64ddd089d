using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>An OAuth 2.0 access token and when it expires. Its text never appears in <see cref="ToString"/>.</summary>
    public sealed class AccessToken
    {
        /// <summary>Creates a token.</summary>
        public AccessToken(string value, DateTimeOffset? expiresOn)
        {
            Value = value ?? throw new ArgumentNullException(nameof(value));
            ExpiresOn = expiresOn;
            ObtainedOn = DateTimeOffset.UtcNow;
        }

        /// <summary>The bearer token; handed to the SASL mechanism only.</summary>
        internal string Value { get; }

        /// <summary>When the token expires; null when the source did not say.</summary>
        public DateTimeOffset? ExpiresOn { get; }

        /// <summary>When ReplyAdmin got it.</summary>
        public DateTimeOffset ObtainedOn { get; }

        /// <inheritdoc />
        public override string ToString() => ExpiresOn.HasValue ? $"access token (expires {ExpiresOn.Value:u})" : "access token";
    }

    /// <summary>Gets access tokens from one provider.</summary>
    public interface ITokenSource
    {
        /// <summary>What the source is, for messages (never a secret), e.g. "Microsoft app-only, client 1234...".</summary>
        string Description { get; }

        /// <summary>Gets a token; with <paramref name="forceRefresh"/>, a new one even where a cached one is still valid.</summary>
        /// <exception cref="ReplyAdminException">The provider refused or cannot be reached (error ids <c>OAuth*</c>).</exception>
        Task<AccessToken> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken);
    }

    /// <summary>
    /// Hands out a cached token while it is comfortably valid and asks the source for a new one before it expires,
    /// so a connection opened late in a long (-Watch) run still logs in with a fresh token. Thread-safe.
    /// </summary>
    public sealed class TokenProvider
    {
        private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);
        private AccessToken _current;

        /// <summary>Creates a provider over <paramref name="source"/>.</summary>
        public TokenProvider(ITokenSource source) => Source = source ?? throw new ArgumentNullException(nameof(source));

        /// <summary>The source.</summary>
        public ITokenSource Source { get; }

        /// <summary>The token last handed out (for reports: its expiry), or null.</summary>
        public AccessToken Current => _current;

        /// <summary>How many tokens the source was asked for.</summary>
        public int Acquisitions { get; private set; }

        /// <summary>A token valid for a while yet; a new one when <paramref name="forceRefresh"/> (the server refused the last one).</summary>
        public async Task<AccessToken> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!forceRefresh && _current != null && !NeedsRefresh(_current, DateTimeOffset.UtcNow))
                    return _current;
                var token = await Source.GetTokenAsync(forceRefresh, cancellationToken).ConfigureAwait(false);
                Acquisitions++;
                _current = token;
                return token;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>
        /// A token is renewed once less than five minutes or half its lifetime (whichever is shorter) are left, so a
        /// login never carries a token that expires on the way; a token of unknown lifetime is asked for each time.
        /// </summary>
        internal static bool NeedsRefresh(AccessToken token, DateTimeOffset now)
        {
            if (!token.ExpiresOn.HasValue) return true;
            var lifetime = token.ExpiresOn.Value - token.ObtainedOn;
            var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(5).Ticks, Math.Max(0, lifetime.Ticks / 2)));
            return token.ExpiresOn.Value - now <= margin;
        }
    }

    /// <summary>
    /// A login by OAuth 2.0: the user name is the mailbox, the secret is a token from <see cref="Tokens"/>. A
    /// <see cref="NetworkCredential"/> so that it travels where passwords travel; its password is always empty.
    /// </summary>
    public sealed class OAuthCredential : NetworkCredential
    {
        /// <summary>Creates the credential.</summary>
        public OAuthCredential(string userName, TokenProvider tokens, OAuthSaslMechanism mechanism, string field)
            : base(userName, string.Empty)
        {
            Tokens = tokens;
            Mechanism = mechanism;
            Field = field;
        }

        /// <summary>Where tokens come from.</summary>
        public TokenProvider Tokens { get; }

        /// <summary>The SASL mechanism to use.</summary>
        public OAuthSaslMechanism Mechanism { get; }

        /// <summary>The configuration section, e.g. <c>replyMailbox.authentication</c>, named in errors.</summary>
        public string Field { get; }

        /// <summary>The mechanism used by the last login (<c>XOAUTH2</c> or <c>OAUTHBEARER</c>).</summary>
        public string LastMechanism { get; internal set; }
    }
}
