using System;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;
using ReplyAdmin.Engine.Sources;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>An inbound IMAP mailbox (implicit TLS) the MTA delivers replies to.</summary>
    internal sealed class ImapSourceProvider : ISourceProvider
    {
        private const string CredentialField = "source.credentialReference";

        public SourceKind Kind => SourceKind.Imap;

        public void Validate(InboundSourceSettings settings)
        {
            ConfigurationValidator.ValidateEndpoint(settings, "source");
            ConfigurationValidator.ValidateFolder(settings.ProcessedFolder, "source.processedFolder");
            ConfigurationValidator.ValidateFolder(settings.RejectedFolder, "source.rejectedFolder");
            if (settings.ArchiveFolder != null)
                ConfigurationValidator.ValidateFolder(settings.ArchiveFolder, "source.archiveFolder");
        }

        public string Describe(InboundSourceSettings settings) => ImapEndpoint.From(settings).ToString();

        public IReplySource Create(InboundSourceSettings settings, SourceContext context) =>
            new ImapReplySource(settings, context.Resolve(settings, CredentialField), context.Timeout, context.ReadOnly);

        public Task<bool> WaitForArrivalAsync(InboundSourceSettings settings, SourceContext context, TimeSpan maxWait, CancellationToken cancellationToken) =>
            ImapArrivalWatcher.WaitForArrivalAsync(settings, context.Resolve(settings, CredentialField), maxWait, context.Timeout, cancellationToken);

        public async Task<SourceTestReport> TestAsync(InboundSourceSettings settings, SourceContext context, CancellationToken cancellationToken)
        {
            var endpoint = ImapEndpoint.From(settings);
            endpoint.Timeout = context.Timeout;
            if (context.Credential != null) endpoint.UserName = context.Credential.UserName;
            var imap = await ImapConnectionTester.TestAsync(endpoint, context.Resolve(settings, CredentialField), ReplyMailboxSettings.DefaultMaxMessageSize, cancellationToken).ConfigureAwait(false);
            return new SourceTestReport { Kind = Kind, Source = endpoint.ToString(), WaitingMessages = imap.MessageCount, Error = imap.Error, Details = imap };
        }
    }
}
