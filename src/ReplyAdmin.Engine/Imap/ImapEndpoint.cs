using System;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>One IMAP server account and folder, reached over implicit TLS.</summary>
    public sealed class ImapEndpoint
    {
        /// <summary>Server host name or address.</summary>
        public string Host { get; set; }

        /// <summary>Implicit-TLS port (993 by default).</summary>
        public int Port { get; set; } = 993;

        /// <summary>Login name.</summary>
        public string UserName { get; set; }

        /// <summary>The folder to use.</summary>
        public string Folder { get; set; } = "INBOX";

        /// <summary>Certificate to accept although it is not trusted (SHA-256 or SHA-1 hex), or null.</summary>
        public string CertificateThumbprint { get; set; }

        /// <summary>Time limit of every network operation.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>The endpoint of configured settings.</summary>
        public static ImapEndpoint From(ImapEndpointSettings settings) => new ImapEndpoint
        {
            Host = settings.Host,
            Port = settings.Port,
            UserName = settings.UserName,
            Folder = settings.Folder,
            CertificateThumbprint = settings.CertificateThumbprint,
        };

        /// <inheritdoc />
        public override string ToString() => $"imaps://{Host}:{Port}/{Folder}";
    }
}
