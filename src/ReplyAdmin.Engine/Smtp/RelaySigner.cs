using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.X509;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Smtp
{
    /// <summary>
    /// Signs forwards as the relay: an ARC set (so a receiver that trusts the relay as a sealer can use our verification of
    /// the original) and a DKIM signature of the relay's domain over the message as it leaves, Resent-* block included.
    /// Holds the private key in memory only; it never reaches the configuration, logs, output or exception texts.
    /// </summary>
    public sealed class RelaySigner
    {
        /// <summary>Headers the relay's DKIM signature covers, when present. The Resent-* block is signed so the loop guard can
        /// tell our own signature (it covers Resent-Message-ID) from a campaign's signature of the same domain.</summary>
        internal static readonly string[] SignedHeaders =
        {
            "Resent-Message-ID", "Resent-From", "Resent-To", "Resent-Date", "From", "Reply-To", "Sender", "To", "Cc", "Subject", "Date", "Message-ID",
            "In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "X-Original-From",
        };

        private readonly AsymmetricKeyParameter _key;
        private readonly DkimSignatureAlgorithm _algorithm;

        private RelaySigner(string domain, string selector, AsymmetricKeyParameter key, DkimSignatureAlgorithm algorithm)
        {
            Domain = domain;
            Selector = selector;
            _key = key;
            _algorithm = algorithm;
        }

        /// <summary>The signing domain (d=).</summary>
        public string Domain { get; }

        /// <summary>The selector (s=).</summary>
        public string Selector { get; }

        /// <summary>"rsa" or "ed25519": the k= tag of the DNS record the key must be published in.</summary>
        public string KeyType => _algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? "ed25519" : "rsa";

        /// <summary>The p= value the DNS record must carry for this key: base64 of the SubjectPublicKeyInfo (RSA) or of the raw 32-byte key (Ed25519, RFC 8463).</summary>
        public string PublicKeyRecordValue
        {
            get
            {
                if (_key is Ed25519PrivateKeyParameters ed)
                    return Convert.ToBase64String(ed.GeneratePublicKey().GetEncoded());
                var rsa = (RsaPrivateCrtKeyParameters)_key;
                var info = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(new RsaKeyParameters(false, rsa.Modulus, rsa.PublicExponent));
                return Convert.ToBase64String(info.GetEncoded());
            }
        }

        /// <summary>The signer of the relay's settings, or null when the relay does not sign (no DKIM domain).</summary>
        /// <param name="relay">The relay settings.</param>
        /// <param name="credentials">Resolves the key reference.</param>
        /// <exception cref="ReplyAdminException">The key cannot be found, read or used (<see cref="ErrorIds.DkimKeyUnreadable"/>, <see cref="ErrorIds.DkimKeyUnsupported"/>).</exception>
        public static RelaySigner FromSettings(SmtpRelaySettings relay, CredentialResolver credentials)
        {
            if (relay == null || string.IsNullOrEmpty(relay.DkimDomain))
                return null;
            var material = credentials.ResolveMaterial(relay.DkimKeyReference, "smtpRelay.dkimKeyReference", "DKIM signing key");
            return Create(relay.DkimDomain, relay.DkimSelector, material, relay.DkimKeyReference);
        }

        /// <summary>A signer from a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", RSA or Ed25519).</summary>
        /// <param name="domain">The signing domain.</param>
        /// <param name="selector">The selector.</param>
        /// <param name="pem">The key's PEM text.</param>
        /// <param name="where">Where the key came from (its reference), named in errors; never the key.</param>
        /// <exception cref="ReplyAdminException">Not a PEM private key, or neither RSA (1024 bits or more) nor Ed25519.</exception>
        public static RelaySigner Create(string domain, string selector, byte[] pem, string where)
        {
            object parsed;
            try
            {
                using (var reader = new StreamReader(new MemoryStream(pem ?? Array.Empty<byte>())))
                    parsed = new PemReader(reader).ReadObject();
            }
            catch (Exception e) when (e is IOException || e is PemException || e is ArgumentException || e is InvalidCastException || e is FormatException)
            {
                // The parser's message may quote the key's text: do not pass it on.
                throw Unreadable(where, null);
            }
            var key = parsed is AsymmetricCipherKeyPair pair ? pair.Private : parsed as AsymmetricKeyParameter;
            if (key == null)
                throw parsed == null ? Unreadable(where, null)
                    : new ReplyAdminException(ErrorIds.DkimKeyUnsupported, ReplyAdminErrorKind.InvalidData,
                        $"The DKIM signing key ({where}) holds a {Describe(parsed)}, not a private key.", where,
                        "Give the private key in PEM form: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 (or -algorithm ED25519).");
            if (!key.IsPrivate)
                throw new ReplyAdminException(ErrorIds.DkimKeyUnsupported, ReplyAdminErrorKind.InvalidData,
                    $"The DKIM signing key ({where}) is a public key; signing needs the private key.", where,
                    "Give the private key file; its public half goes into DNS.");
            if (key is RsaPrivateCrtKeyParameters rsa)
            {
                if (rsa.Modulus.BitLength < 1024)
                    throw new ReplyAdminException(ErrorIds.DkimKeyUnsupported, ReplyAdminErrorKind.InvalidData,
                        $"The DKIM signing key ({where}) is an RSA key of {rsa.Modulus.BitLength} bits; receivers ignore signatures of keys under 1024 bits (RFC 8301).", where,
                        "Create a 2048-bit key: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048.");
                return new RelaySigner(domain, selector, key, DkimSignatureAlgorithm.RsaSha256);
            }
            if (key is Ed25519PrivateKeyParameters)
                return new RelaySigner(domain, selector, key, DkimSignatureAlgorithm.Ed25519Sha256);
            throw new ReplyAdminException(ErrorIds.DkimKeyUnsupported, ReplyAdminErrorKind.InvalidData,
                $"The DKIM signing key ({where}) is a {Describe(key)}; DKIM signs with RSA (RFC 6376) or Ed25519 (RFC 8463) only.", where,
                "Create an RSA key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048) or an Ed25519 key (openssl genpkey -algorithm ED25519).");
        }

        private static ReplyAdminException Unreadable(string where, Exception inner) =>
            new ReplyAdminException(ErrorIds.DkimKeyUnreadable, ReplyAdminErrorKind.InvalidData,
                $"The DKIM signing key ({where}) is not a PEM private key.", where,
                "Give a PEM file that starts with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- (an encrypted key cannot be used).", inner);

        private static string Describe(object value) =>
            value is ECPrivateKeyParameters || value is ECPublicKeyParameters ? "elliptic-curve (ECDSA) key"
            : value is DsaKeyParameters ? "DSA key"
            : value is Org.BouncyCastle.X509.X509Certificate ? "certificate"
            : value.GetType().Name.Replace("Parameters", string.Empty);

        /// <summary>
        /// Seals and signs <paramref name="message"/> in place: an ARC set (ARC-Authentication-Results with
        /// <paramref name="authenticationResults"/>, ARC-Message-Signature, ARC-Seal), then a DKIM-Signature of the relay's domain.
        /// Call it on the message exactly as it will be sent (after the Resent-* block, after <see cref="MimeMessage.Prepare(EncodingConstraint, int)"/>).
        /// </summary>
        /// <param name="message">The message as it leaves.</param>
        /// <param name="authenticationResults">Our verification of the original: method results (<c>dkim=pass header.d=...</c>),
        /// written under the relay's authserv-id, or a whole Authentication-Results value; null writes <c>&lt;authserv-id&gt;; none</c> (nothing was verified).
        /// Where the message already carries ARC sets, it must include the chain's result (<c>arc=pass</c> or <c>arc=fail</c>),
        /// which becomes the seal's cv=; without it no ARC set is added.</param>
        /// <param name="cancellationToken">Cancels the signing.</param>
        /// <returns>The header fields added, topmost first.</returns>
        public async Task<IReadOnlyList<Header>> SignAsync(MimeMessage message, string authenticationResults, CancellationToken cancellationToken)
        {
            var before = new HashSet<Header>(message.Headers);
            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = NewLineFormat.Dos;
            // The top-level Content-* fields of a parsed message are the body's headers.
            var present = SignedHeaders.Where(h => message.Headers.Contains(h) || (message.Body != null && message.Body.Headers.Contains(h))).ToList();
            var arc = new Sealer(_key, Domain, Selector, _algorithm, authenticationResults)
            {
                HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            };
            await arc.SignAsync(options, message, present, cancellationToken).ConfigureAwait(false);
            var dkim = new DkimSigner(_key, Domain, Selector, _algorithm)
            {
                HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            };
            dkim.Sign(options, message, present);
            return message.Headers.Where(h => !before.Contains(h)).ToList();
        }

        /// <summary>The authserv-id we write into ARC-Authentication-Results: the relay's signing domain.</summary>
        public string AuthServId => Domain;

        // MimeKit's ArcSigner asks its subclass for the verification result to seal into ARC-Authentication-Results.
        private sealed class Sealer : ArcSigner
        {
            private readonly string _results;

            public Sealer(AsymmetricKeyParameter key, string domain, string selector, DkimSignatureAlgorithm algorithm, string results)
                : base(key, domain, selector, algorithm)
            {
                _results = results;
            }

            protected override AuthenticationResults GenerateArcAuthenticationResults(FormatOptions options, MimeMessage message, CancellationToken cancellationToken)
            {
                // The caller's method results (SenderVerification.ToMethodResults: "dkim=...; dmarc=...") go under our own authserv-id.
                var value = string.IsNullOrWhiteSpace(_results) ? null : _results.Split(';')[0].Contains('=') ? Domain + "; " + _results : _results;
                var results = value != null && AuthenticationResults.TryParse(System.Text.Encoding.UTF8.GetBytes(value), out var parsed)
                    ? parsed
                    : new AuthenticationResults(Domain); // "<authserv-id>; none"
                // A message that already carries ARC sets needs our verdict on that chain as cv= (RFC 8617 5.1.1); MimeKit
                // would write cv=pass without one. Not knowing it, add no ARC set (null) rather than vouch for a chain
                // nobody checked; the DKIM signature is still added.
                if (message.Headers.Contains(HeaderId.ArcSeal)
                    && !results.Results.Any(r => string.Equals(r.Method, "arc", StringComparison.OrdinalIgnoreCase)))
                    return null;
                return results;
            }

            protected override Task<AuthenticationResults> GenerateArcAuthenticationResultsAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
                Task.FromResult(GenerateArcAuthenticationResults(options, message, cancellationToken));
        }
    }
}
