using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.ClientSetup;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Gets the settings staff enter in their mail client to read and answer a list's replies.
    /// One object per list: account type IMAP, the list's address, the shared IMAP folder's
    /// server (port 993, SSL/TLS) and user name, and the outgoing (SMTP) server. Never the password. With -AsText, a
    /// short text to paste into a ticket or an e-mail, in English or German.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyMailClientSetting", DefaultParameterSetName = ObjectSet)]
    [OutputType(typeof(MailClientSetting), ParameterSetName = new[] { ObjectSet })]
    [OutputType(typeof(string), ParameterSetName = new[] { TextSet })]
    public sealed class GetReplyMailClientSettingCommand : ReplyAdminCmdlet
    {
        private const string ObjectSet = "Object";
        private const string TextSet = "Text";

        /// <summary>List names; wildcards allowed. Default: every list.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [SupportsWildcards]
        public string[] Name { get; set; }

        /// <summary>Return a plain-text block for a ticket or an e-mail instead of an object.</summary>
        [Parameter(Mandatory = true, ParameterSetName = TextSet)]
        public SwitchParameter AsText { get; set; }

        /// <summary>Language of the text: en (English) or de (German).</summary>
        [Parameter(ParameterSetName = TextSet)]
        [ValidateSet("en", "de", IgnoreCase = true)]
        public string Language { get; set; } = "en";

        private ReplyAdminConfiguration _configuration;
        private bool _warned;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            _configuration = LoadConfiguration();
            try
            {
                MailClientSetup.RequireReplyMailbox(_configuration, ResolvedConfigPath);
            }
            catch (ReplyAdminException e)
            {
                WriteEngineError(e);
                _configuration = null;
                return;
            }
            if (_configuration.Lists.Count == 0)
                WriteWarning($"No lists are configured in {ResolvedConfigPath}; Add-ReplyList adds one.");
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (_configuration == null)
                return;
            foreach (var list in GetReplyListCommand.Select(_configuration, Name, this))
            {
                var setting = Invoke(() => MailClientSetup.For(list, _configuration, ResolvedConfigPath));
                if (!_warned)
                {
                    foreach (var warning in setting.Warnings) WriteWarning(warning); // the same for every list: once
                    _warned = true;
                }
                if (AsText)
                    WriteObject(MailClientSetup.ToText(setting, Language.ToLowerInvariant()));
                else
                    WriteObject(setting);
            }
        }
    }

    /// <summary>
    /// Writes a ready-to-import mail-client profile for a list: Thunderbird autoconfig XML or an Apple .mobileconfig.
    /// The profile sets up an IMAP account with the list's address on the shared IMAP folder
    /// (SSL/TLS, port 993) and the SMTP relay as outgoing server. It holds no password: the client asks for it.
    /// Without -Path the file goes to the current directory as &lt;list&gt;.thunderbird.xml or &lt;list&gt;.mobileconfig;
    /// an existing file is replaced only with -Force.
    /// </summary>
    [Cmdlet(VerbsData.Export, "ReplyMailClientProfile", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportReplyMailClientProfileCommand : ReplyAdminCmdlet
    {
        /// <summary>The list the profile is for.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Thunderbird (autoconfig XML, clientConfig 1.1) or AppleMobileConfig (.mobileconfig).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public ClientProfileFormat Format { get; set; }

        /// <summary>The file to write, or an existing directory to write the default file name into. Default: the current directory.</summary>
        [Parameter(Position = 2)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Output the written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Replace an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private ReplyAdminConfiguration _configuration;
        private bool _warned;

        /// <inheritdoc />
        protected override void BeginProcessing() => _configuration = LoadConfiguration();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var list = _configuration.Lists.FirstOrDefault(l => string.Equals(l.Name, Name, StringComparison.OrdinalIgnoreCase));
            if (list == null)
            {
                WriteEngineError(ListSettings.NotFound(Name, ResolvedConfigPath));
                return;
            }
            MailClientSetting setting;
            string content;
            try
            {
                setting = MailClientSetup.For(list, _configuration, ResolvedConfigPath);
                content = ClientProfiles.Render(setting, Format);
            }
            catch (ReplyAdminException e)
            {
                WriteEngineError(e);
                return;
            }
            if (!_warned)
            {
                foreach (var warning in setting.Warnings) WriteWarning(warning);
                _warned = true;
            }
            var file = TargetPath(setting);
            if (!ShouldProcess(file, $"Write {Format} profile for list '{list.Name}'"))
                return;
            try
            {
                ClientProfiles.WriteFile(file, content, Force);
            }
            catch (ReplyAdminException e)
            {
                WriteEngineError(e);
                return;
            }
            WriteVerbose($"Wrote the {Format} profile of list '{list.Name}' <{list.Address}> to {file}. It holds no password.");
            if (PassThru) WriteObject(new FileInfo(file));
        }

        private string TargetPath(MailClientSetting setting)
        {
            var defaultName = ClientProfiles.DefaultFileName(setting, Format);
            if (Path == null)
                return System.IO.Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, defaultName);
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            return Directory.Exists(path) || Path.EndsWith("/", StringComparison.Ordinal) || Path.EndsWith("\\", StringComparison.Ordinal)
                ? System.IO.Path.Combine(path, defaultName)
                : path;
        }
    }
}
