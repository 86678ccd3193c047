import { render } from 'preact';
import { App } from './app';
import { installErrorReporting } from './report';
import './styles.css';

installErrorReporting();

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
render(<App />, root);
