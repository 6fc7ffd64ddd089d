using System;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>What a server's TLS certificate said about itself, and whether it was accepted and why.</summary>
    public sealed class CertificateInfo
    {
        /// <summary>Certificate subject.</summary>
        public string Subject { get; internal set; }

        /// <summary>Certificate issuer.</summary>
        public string Issuer { get; internal set; }

        /// <summary>Start of validity.</summary>
        public DateTime NotBefore { get; internal set; }

        /// <summary>End of validity.</summary>
        public DateTime NotAfter { get; internal set; }

        /// <summary>SHA-256 fingerprint (hex, upper case); what a pin names.</summary>
        public string Thumbprint { get; internal set; }

        /// <summary>True when the chain is trusted and the name matches.</summary>
        public bool Trusted { get; internal set; }

        /// <summary>True when the certificate was accepted because it matches the pinned thumbprint.</summary>
        public bool Pinned { get; internal set; }

        /// <summary>The validation problems (empty when trusted).</summary>
        public string PolicyErrors { get; internal set; }
    }

    /// <summary>
    /// Certificate validation for every TLS connection: a trusted chain with matching name, or a certificate
    /// pinned explicitly by its thumbprint. Nothing else is accepted.
    /// </summary>
    internal sealed class CertificateCheck
    {
        private readonly string _pinned;

        public CertificateCheck(string pinnedThumbprint) =>
            _pinned = Configuration.ConfigurationValidator.NormalizeThumbprint(pinnedThumbprint);

        /// <summary>The certificate the server presented, once the handshake got that far.</summary>
        public CertificateInfo Presented { get; private set; }

        public bool Validate(object sender, X509Certificate certificate, X509Chain chain, SslPolicyErrors errors)
        {
            if (certificate == null)
                return false;
            var cert = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
            string sha256;
            using (var hash = SHA256.Create())
                sha256 = BitConverter.ToString(hash.ComputeHash(cert.RawData)).Replace("-", string.Empty);
            var sha1 = cert.Thumbprint?.ToUpperInvariant();
            var pinned = _pinned != null && (_pinned == sha256 || _pinned == sha1);
            Presented = new CertificateInfo
            {
                Subject = cert.Subject,
                Issuer = cert.Issuer,
                NotBefore = cert.NotBefore.ToUniversalTime(),
                NotAfter = cert.NotAfter.ToUniversalTime(),
                Thumbprint = sha256,
                Trusted = errors == SslPolicyErrors.None,
                Pinned = pinned,
                PolicyErrors = errors == SslPolicyErrors.None ? string.Empty : Describe(errors, chain),
            };
            return errors == SslPolicyErrors.None || pinned;
        }

        private static string Describe(SslPolicyErrors errors, X509Chain chain)
        {
            var text = errors.ToString();
            if (chain != null && (errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                foreach (var status in chain.ChainStatus)
                    if (status.Status != X509ChainStatusFlags.NoError)
                        text += $"; {status.Status}";
            }
            return text;
        }
    }
}
