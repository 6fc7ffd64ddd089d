using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Files;
using ReplyAdmin.Engine.Imap;
using ReplyAdmin.Engine.Smtp;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>What one run of <see cref="ReplyProcessing.RunAsync"/> works with.</summary>
    public sealed class ProcessingRequest
    {
        /// <summary>The loaded configuration.</summary>
        public ReplyAdminConfiguration Configuration { get; set; }

        /// <summary>The configuration file (the journal and run locks live beside it).</summary>
        public string ConfigPath { get; set; }

        /// <summary>Resolves the configured credential references.</summary>
        public CredentialResolver Credentials { get; set; } = new CredentialResolver();

        /// <summary>Overrides the reply mailbox's configured credential.</summary>
        public NetworkCredential ReplyMailboxCredential { get; set; }

        /// <summary>Overrides the IMAP source's configured credential.</summary>
        public NetworkCredential SourceCredential { get; set; }

        /// <summary>Message files to handle instead of the configured source (piped input).</summary>
        public IReadOnlyList<string> Files { get; set; }

        /// <summary>Run options.</summary>
        public ProcessingOptions Options { get; set; } = new ProcessingOptions();

        /// <summary>Journal directory; default <c>journal</c> beside the configuration file.</summary>
        public string JournalDirectory { get; set; }

        /// <summary>Time limit of every network operation.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>The classifier; default <see cref="ReplyClassifier"/>.</summary>
        public IReplyClassifier Classifier { get; set; }
    }

    /// <summary>Builds one processing run from the configuration and runs it: the single entry point for hosts (cmdlets, a service).</summary>
    public static class ReplyProcessing
    {
        /// <summary>Runs processing once.</summary>
        /// <exception cref="ReplyAdminException">The configuration is incomplete, another run holds the source, or a server cannot be reached.</exception>
        public static async Task<ProcessingSummary> RunAsync(ProcessingRequest request, IProcessingObserver observer, CancellationToken cancellationToken)
        {
            var configuration = request.Configuration;
            var mailbox = configuration.ReplyMailbox ?? throw new ReplyAdminException("ReplyMailboxNotConfigured", ReplyAdminErrorKind.ObjectNotFound,
                "No reply mailbox is configured: replies have nowhere to go.", request.ConfigPath, "Configure it with Set-ReplyMailbox.");
            if (request.Files == null && configuration.Source == null)
                throw new ReplyAdminException("ReplySourceNotConfigured", ReplyAdminErrorKind.ObjectNotFound,
                    "No inbound source is configured.", request.ConfigPath, "Configure it with Set-ReplySource, or pipe message files in.");

            var mailboxCredential = request.ReplyMailboxCredential ?? request.Credentials.Resolve(mailbox.UserName, mailbox.CredentialReference, "replyMailbox.credentialReference", mailbox.Authentication);
            var forwards = configuration.Lists.Any(l => l.Action == ReplyAction.ForwardAndStoreInImap);
            NetworkCredential relayCredential = null;
            if (forwards && configuration.SmtpRelay != null && !string.IsNullOrEmpty(configuration.SmtpRelay.UserName))
                relayCredential = request.Credentials.Resolve(configuration.SmtpRelay.UserName, configuration.SmtpRelay.CredentialReference, "smtpRelay.credentialReference", configuration.SmtpRelay.Authentication);

            using (var source = CreateSource(request))
            using (RunLock.Acquire(request.ConfigPath, source.Description, request.Files == null))
            using (var store = new ImapReplyStore(mailbox, mailboxCredential, request.Timeout))
            using (var forwarder = forwards && configuration.SmtpRelay != null ? new SmtpForwarder(configuration.SmtpRelay, relayCredential, request.Timeout) : null)
            using (var journal = request.Options.WhatIf ? null : new Journal(request.JournalDirectory ?? Journal.DefaultDirectory(request.ConfigPath)))
            {
                var processor = new ReplyProcessor(configuration.Lists, request.Classifier ?? new ReplyClassifier(), source, store, forwarder, observer,
                    WithMaxSize(request.Options, mailbox.MaxMessageSize), journal);
                return await processor.RunAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private static ProcessingOptions WithMaxSize(ProcessingOptions options, long maxMessageSize)
        {
            options.MaxMessageSize = maxMessageSize;
            return options;
        }

        private static IReplySource CreateSource(ProcessingRequest request)
        {
            if (request.Files != null)
                return new FileReplySource(request.Files);
            var settings = request.Configuration.Source;
            if (settings.Kind != SourceKind.Imap)
                return new FileReplySource(settings);
            var credential = request.SourceCredential ?? request.Credentials.Resolve(settings.UserName, settings.CredentialReference, "source.credentialReference", settings.Authentication);
            return new ImapReplySource(settings, credential, request.Timeout);
        }
    }

    /// <summary>
    /// Keeps two runs (a scheduled task firing while the last run still works) off the same source: an exclusive
    /// lock file per source beside the configuration, released by the operating system when a process dies.
    /// </summary>
    internal static class RunLock
    {
        public static IDisposable Acquire(string configPath, string sourceDescription, bool needed)
        {
            if (!needed) return null;
            string hash;
            using (var sha = SHA256.Create())
                hash = BitConverter.ToString(sha.ComputeHash(Encoding.UTF8.GetBytes(sourceDescription)), 0, 8).Replace("-", "").ToLowerInvariant();
            var directory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", "locks");
            var path = Path.Combine(directory, $"run-{hash}.lock");
            try
            {
                Directory.CreateDirectory(directory);
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                throw new ReplyAdminException("ProcessingAlreadyRunning", ReplyAdminErrorKind.ResourceUnavailable,
                    $"Another ReplyAdmin run is processing {sourceDescription}; this run does nothing.", sourceDescription,
                    "Nothing to do: the other run handles the waiting messages. If runs overlap often, schedule them further apart.", e);
            }
        }
    }
}
