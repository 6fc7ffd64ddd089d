using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Base of every ReplyAdmin cmdlet: the configuration file, credentials, cancellation, and the one place
    /// where engine errors become PowerShell error records.
    /// </summary>
    public abstract class ReplyAdminCmdlet : PSCmdlet
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

        /// <summary>The configuration file; default: $env:REPLYADMIN_CONFIG, else the per-user default.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ConfigPath { get; set; }

        /// <summary>Cancelled when the user presses Ctrl+C.</summary>
        protected CancellationToken StopToken => _stopping.Token;

        /// <summary>The store of the configuration file in effect.</summary>
        protected ConfigurationStore Store => new ConfigurationStore(ResolvedConfigPath);

        /// <summary>The configuration file in effect, as a file-system path.</summary>
        protected internal string ResolvedConfigPath => ConfigPath != null
            ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigPath)
            : ConfigurationStore.DefaultPath;

        /// <inheritdoc />
        protected override void StopProcessing() => _stopping.Cancel();

        /// <summary>Loads the configuration, turning a bad file into a terminating error.</summary>
        protected ReplyAdminConfiguration LoadConfiguration()
        {
            var store = Store;
            foreach (var warning in store.PermissionWarnings()) WriteWarning(warning);
            return Invoke(() => store.Load());
        }

        /// <summary>Runs an engine call; an engine error becomes a terminating error record.</summary>
        protected T Invoke<T>(Func<T> call) => Invoke(this, call);

        /// <summary>Runs an engine call for <paramref name="cmdlet"/>; an engine error becomes its terminating error record.</summary>
        internal static T Invoke<T>(Cmdlet cmdlet, Func<T> call)
        {
            try
            {
                return call();
            }
            catch (ReplyAdminException e)
            {
                cmdlet.ThrowTerminatingError(ToErrorRecord(e));
                throw; // not reached
            }
        }

        /// <summary>Runs an async engine call to completion, cancellable with Ctrl+C.</summary>
        protected T Invoke<T>(Func<CancellationToken, Task<T>> call) => Invoke(() =>
        {
            try
            {
                return call(StopToken).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        });

        /// <summary>Tells the user something: shown in the console like Write-Host, and capturable from the information stream (6).</summary>
        protected void WriteHostInformation(string message) => WriteHostInformation(this, message);

        /// <inheritdoc cref="WriteHostInformation(string)"/>
        internal static void WriteHostInformation(Cmdlet cmdlet, string message) =>
            cmdlet.WriteInformation(new HostInformationMessage { Message = message }, new[] { "PSHOST" });

        /// <summary>True when verbose output is shown (-Verbose, or $VerbosePreference): what is worked out only to be told is skipped otherwise.</summary>
        internal bool VerboseWanted => MyInvocation.BoundParameters.TryGetValue("Verbose", out var verbose)
            ? ((SwitchParameter)verbose).IsPresent
            : !(GetVariableValue("VerbosePreference") is ActionPreference preference) || preference != ActionPreference.SilentlyContinue;

        /// <summary>Writes an engine error as a non-terminating error record.</summary>
        protected void WriteEngineError(ReplyAdminException e) => WriteError(ToErrorRecord(e));

        /// <summary>The one mapping of engine errors to error records.</summary>
        protected internal static ErrorRecord ToErrorRecord(ReplyAdminException e)
        {
            var record = new ErrorRecord(e, e.ErrorId, Map(e.Kind), e.Target);
            if (e.RecommendedAction != null)
                record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction };
            return record;
        }

        /// <summary>An error record for a problem the cmdlet itself finds (e.g. a list that does not exist).</summary>
        protected static ErrorRecord Error(string errorId, ReplyAdminErrorKind kind, string message, object target, string recommendedAction) =>
            ToErrorRecord(new ReplyAdminException(errorId, kind, message, target, recommendedAction));

        private static ErrorCategory Map(ReplyAdminErrorKind kind)
        {
            switch (kind)
            {
                case ReplyAdminErrorKind.InvalidArgument: return ErrorCategory.InvalidArgument;
                case ReplyAdminErrorKind.InvalidData: return ErrorCategory.InvalidData;
                case ReplyAdminErrorKind.ObjectNotFound: return ErrorCategory.ObjectNotFound;
                case ReplyAdminErrorKind.ResourceExists: return ErrorCategory.ResourceExists;
                case ReplyAdminErrorKind.ConnectionError: return ErrorCategory.ConnectionError;
                case ReplyAdminErrorKind.AuthenticationError: return ErrorCategory.AuthenticationError;
                case ReplyAdminErrorKind.SecurityError: return ErrorCategory.SecurityError;
                case ReplyAdminErrorKind.LimitsExceeded: return ErrorCategory.LimitsExceeded;
                case ReplyAdminErrorKind.ResourceUnavailable: return ErrorCategory.ResourceUnavailable;
                case ReplyAdminErrorKind.OperationTimeout: return ErrorCategory.OperationTimeout;
                case ReplyAdminErrorKind.ReadError: return ErrorCategory.ReadError;
                case ReplyAdminErrorKind.WriteError: return ErrorCategory.WriteError;
                default: return ErrorCategory.NotSpecified;
            }
        }

        /// <summary>
        /// Resolves a password: <paramref name="credential"/> when given, else the configured reference
        /// (env:, file:, or secret: through SecretManagement's Get-Secret).
        /// </summary>
        protected NetworkCredential ResolveCredential(PSCredential credential, string userName, string reference, string field, AuthenticationSettings authentication = null)
        {
            if (credential != null)
                return credential.GetNetworkCredential();
            return Invoke(() => CredentialResolver.Resolve(userName, reference, field, authentication));
        }

        /// <summary>Resolves credential references, with SecretManagement's Get-Secret for <c>secret:</c> references.</summary>
        protected CredentialResolver CredentialResolver => new CredentialResolver(SecretManagementAvailable ? LookupSecret : (Func<string, string>)null);

        /// <summary>True when SecretManagement's Get-Secret can be called.</summary>
        protected bool SecretManagementAvailable => InvokeCommand.GetCommand("Get-Secret", CommandTypes.Cmdlet | CommandTypes.Function) != null;

        /// <summary>The password of a SecretManagement secret, or null. Call on the pipeline thread only.</summary>
        protected string LookupSecret(string name)
        {
            var results = InvokeCommand.InvokeScript("param($n) Get-Secret -Name $n -AsPlainText -ErrorAction Stop", true,
                PipelineResultTypes.None, null, name);
            return results.Count == 0 ? null : results[0]?.BaseObject?.ToString();
        }
    }

    /// <summary>Completes list names from the configuration file in effect.</summary>
    public sealed class ListNameCompleter : IArgumentCompleter
    {
        /// <summary>The -ConfigPath already typed on the command line, else the default configuration file.</summary>
        internal static string ConfigPathOf(IDictionary fakeBoundParameters) => BoundString(fakeBoundParameters, "ConfigPath") ?? ConfigurationStore.DefaultPath;

        /// <summary>The text already typed on the command line for parameter <paramref name="name"/>, or null.</summary>
        internal static string BoundString(IDictionary fakeBoundParameters, string name)
        {
            var value = fakeBoundParameters?[name];
            return (value is PSObject wrapped ? wrapped.BaseObject : value) as string;
        }

        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var path = ConfigPathOf(fakeBoundParameters);
            IEnumerable<ReplyList> lists;
            try
            {
                lists = new ConfigurationStore(path).Load().Lists;
            }
            catch (ReplyAdminException)
            {
                yield break;
            }
            var pattern = new WildcardPattern((wordToComplete ?? string.Empty).Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            foreach (var list in lists.Where(l => pattern.IsMatch(l.Name)).OrderBy(l => l.Name, StringComparer.OrdinalIgnoreCase))
                yield return new CompletionResult(list.Name, list.Name, CompletionResultType.ParameterValue, $"{list.Name} <{list.Address}>");
        }
    }

    /// <summary>
    /// Completes IMAP folder names from the server of the configured reply mailbox (Set-ReplyMailbox) or source
    /// (Set-ReplySource), where it can be reached within a few seconds with an env: or file: credential.
    /// </summary>
    public sealed class FolderNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var path = ListNameCompleter.ConfigPathOf(fakeBoundParameters);
            IReadOnlyList<string> folders;
            try
            {
                var configuration = new ConfigurationStore(path).Load();
                ImapEndpointSettings settings = commandName != null && commandName.IndexOf("Source", StringComparison.OrdinalIgnoreCase) >= 0
                    ? (ImapEndpointSettings)configuration.Source : configuration.ReplyMailbox;
                if (settings?.Host == null || settings.UserName == null)
                    yield break;
                var endpoint = Engine.Imap.ImapEndpoint.From(settings);
                endpoint.Timeout = TimeSpan.FromSeconds(5);
                var credential = new CredentialResolver().Resolve(settings.UserName, settings.CredentialReference, "credentialReference", settings.Authentication);
                using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(8)))
                    folders = Engine.Imap.ImapFolderLister.ListAsync(endpoint, credential, timeout.Token).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is ReplyAdminException || e is OperationCanceledException)
            {
                yield break; // completion is a convenience: an unreachable server completes nothing
            }
            var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
            foreach (var folder in folders.Where(f => f.StartsWith(word, StringComparison.OrdinalIgnoreCase)))
            {
                var text = folder.IndexOfAny(new[] { ' ', '\'', '$', '`' }) >= 0 ? "'" + folder.Replace("'", "''") + "'" : folder;
                yield return new CompletionResult(text, folder, CompletionResultType.ParameterValue, folder);
            }
        }
    }
}
