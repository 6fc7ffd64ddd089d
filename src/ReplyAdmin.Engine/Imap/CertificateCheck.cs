using System;
using System.Collections.Generic;
using System.Threading;
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

        /// <summary>
        /// For a pinned certificate that would not be trusted on its own (expired, another host's name): what the
        /// administrator should know; it is accepted, because the pin is the trust. Null otherwise.
        /// </summary>
        public string Warning { get; internal set; }
    }

    /// <summary>
    /// Certificate validation for every TLS connection: a trusted chain with matching name, or a certificate
    /// pinned explicitly by its thumbprint. Nothing else is accepted.
    /// </summary>
    internal sealed class CertificateCheck
    {
        private readonly string _pinned;

        public CertificateCheck(string pinnedThumbprint, string host = null)
        {
            _pinned = Configuration.ConfigurationValidator.NormalizeThumbprint(pinnedThumbprint);
            _host = host;
        }

        private readonly string _host;

        /// <summary>
        /// Where the warnings of pinned certificates go in the current run (the run's observer); set by the run, and flowing
        /// to every connection it makes.
        /// </summary>
        internal static readonly AsyncLocal<Action<string>> Warn = new AsyncLocal<Action<string>>();

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
            if (pinned && errors != SslPolicyErrors.None)
            {
                var problems = new List<string>();
                if (DateTime.UtcNow > Presented.NotAfter) problems.Add($"it expired on {Presented.NotAfter:yyyy-MM-dd}");
                else if (DateTime.UtcNow < Presented.NotBefore) problems.Add($"it is valid only from {Presented.NotBefore:yyyy-MM-dd}");
                if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                    problems.Add($"it names another host ({cert.GetNameInfo(X509NameType.DnsName, false)}){(_host != null ? $", not {_host}" : "")}");
                if (problems.Count > 0)
                {
                    Presented.Warning = $"The pinned certificate of {_host ?? "the server"} (SHA-256 {sha256}) is accepted because it matches the pin, but {string.Join(" and ", problems)}; it expires (or expired) on {Presented.NotAfter:yyyy-MM-dd}. " +
                        "Renew it, then pin the new one (Test-ReplyImapConnection shows its thumbprint).";
                    Warn.Value?.Invoke(Presented.Warning);
                }
            }
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
