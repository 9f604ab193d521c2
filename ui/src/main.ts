// The web UI's entry point: global styles, the desktop the page runs on, then the app frame
// mounted on the page once it has loaded.
import { mount } from 'svelte';
import App from './App.svelte';
import { desktopOf } from './lib/desktop';
import { whenLoaded } from './lib/frame';
import './styles/tokens.css';
import './styles/base.css';
import './styles/components.css';

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app element');
document.documentElement.dataset.desktop = desktopOf(navigator.userAgent);

whenLoaded(() => mount(App, { target }));
